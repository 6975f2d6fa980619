/*
  Warnings:

  - A unique constraint covering the columns `[slotKey]` on the table `DrRun` will be added. If there are existing duplicate values, this will fail.

*/
-- AlterTable
ALTER TABLE "DrRun" ADD COLUMN     "slotKey" TEXT;

-- CreateIndex
CREATE UNIQUE INDEX "DrRun_slotKey_key" ON "DrRun"("slotKey");
