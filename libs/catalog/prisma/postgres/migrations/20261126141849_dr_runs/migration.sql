-- CreateTable
CREATE TABLE "DrRun" (
    "id" TEXT NOT NULL,
    "kind" TEXT NOT NULL,
    "state" TEXT NOT NULL DEFAULT 'running',
    "failedHostId" TEXT,
    "replacementHostId" TEXT,
    "recoveryPointId" TEXT,
    "plan" JSONB NOT NULL,
    "reason" TEXT,
    "createdBy" TEXT NOT NULL,
    "startedAt" TIMESTAMP(3),
    "finishedAt" TIMESTAMP(3),
    "rtoMs" INTEGER,
    "rpoMs" INTEGER,
    "createdAt" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "updatedAt" TIMESTAMP(3) NOT NULL,

    CONSTRAINT "DrRun_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "DrStep" (
    "id" TEXT NOT NULL,
    "runId" TEXT NOT NULL,
    "position" INTEGER NOT NULL,
    "name" TEXT NOT NULL,
    "hostId" TEXT,
    "action" TEXT NOT NULL,
    "params" JSONB NOT NULL,
    "dependsOn" JSONB NOT NULL,
    "state" TEXT NOT NULL DEFAULT 'pending',
    "attempt" INTEGER NOT NULL DEFAULT 0,
    "maxAttempts" INTEGER NOT NULL DEFAULT 1,
    "timeoutMs" INTEGER NOT NULL,
    "onFailure" TEXT NOT NULL DEFAULT 'abort',
    "jobId" TEXT,
    "output" JSONB,
    "error" TEXT,
    "startedAt" TIMESTAMP(3),
    "finishedAt" TIMESTAMP(3),

    CONSTRAINT "DrStep_pkey" PRIMARY KEY ("id")
);

-- CreateIndex
CREATE INDEX "DrRun_state_idx" ON "DrRun"("state");

-- CreateIndex
CREATE INDEX "DrRun_failedHostId_idx" ON "DrRun"("failedHostId");

-- CreateIndex
CREATE INDEX "DrRun_replacementHostId_idx" ON "DrRun"("replacementHostId");

-- CreateIndex
CREATE INDEX "DrRun_recoveryPointId_idx" ON "DrRun"("recoveryPointId");

-- CreateIndex
CREATE INDEX "DrStep_hostId_idx" ON "DrStep"("hostId");

-- CreateIndex
CREATE INDEX "DrStep_jobId_idx" ON "DrStep"("jobId");

-- CreateIndex
CREATE UNIQUE INDEX "DrStep_runId_position_key" ON "DrStep"("runId", "position");

-- AddForeignKey
ALTER TABLE "DrRun" ADD CONSTRAINT "DrRun_failedHostId_fkey" FOREIGN KEY ("failedHostId") REFERENCES "Host"("id") ON DELETE RESTRICT ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "DrRun" ADD CONSTRAINT "DrRun_replacementHostId_fkey" FOREIGN KEY ("replacementHostId") REFERENCES "Host"("id") ON DELETE RESTRICT ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "DrRun" ADD CONSTRAINT "DrRun_recoveryPointId_fkey" FOREIGN KEY ("recoveryPointId") REFERENCES "RecoveryPoint"("id") ON DELETE RESTRICT ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "DrStep" ADD CONSTRAINT "DrStep_runId_fkey" FOREIGN KEY ("runId") REFERENCES "DrRun"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "DrStep" ADD CONSTRAINT "DrStep_hostId_fkey" FOREIGN KEY ("hostId") REFERENCES "Host"("id") ON DELETE RESTRICT ON UPDATE CASCADE;
