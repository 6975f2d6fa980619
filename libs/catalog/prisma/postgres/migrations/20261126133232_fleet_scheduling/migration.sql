-- AlterTable
ALTER TABLE "Host" ADD COLUMN     "rpoBreachedSince" TIMESTAMP(3);

-- AlterTable
ALTER TABLE "Job" ADD COLUMN     "createdBy" TEXT NOT NULL DEFAULT 'system:scheduler',
ADD COLUMN     "dispatchedAt" TIMESTAMP(3),
ADD COLUMN     "finishedAt" TIMESTAMP(3),
ADD COLUMN     "reason" TEXT,
ADD COLUMN     "schedule" TEXT;

-- AlterTable
ALTER TABLE "JobRun" ADD COLUMN     "details" JSONB,
ADD COLUMN     "locallyScheduled" BOOLEAN NOT NULL DEFAULT false,
ADD COLUMN     "progress" JSONB;

-- AlterTable
ALTER TABLE "Policy" ADD COLUMN     "scheduling" JSONB;
