-- AlterTable
ALTER TABLE "Host" ADD COLUMN "rpoBreachedSince" DATETIME;

-- AlterTable
ALTER TABLE "Policy" ADD COLUMN "scheduling" JSONB;

-- RedefineTables
PRAGMA defer_foreign_keys=ON;
PRAGMA foreign_keys=OFF;
CREATE TABLE "new_Job" (
    "id" TEXT NOT NULL PRIMARY KEY,
    "kind" TEXT NOT NULL,
    "hostId" TEXT NOT NULL,
    "policyId" TEXT,
    "scheduledFor" DATETIME NOT NULL,
    "schedule" TEXT,
    "state" TEXT NOT NULL DEFAULT 'pending',
    "reason" TEXT,
    "createdBy" TEXT NOT NULL DEFAULT 'system:scheduler',
    "dispatchedAt" DATETIME,
    "finishedAt" DATETIME,
    "attempt" INTEGER NOT NULL DEFAULT 0,
    "idempotencyKey" TEXT NOT NULL,
    "params" JSONB NOT NULL,
    "createdAt" DATETIME NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "updatedAt" DATETIME NOT NULL,
    CONSTRAINT "Job_hostId_fkey" FOREIGN KEY ("hostId") REFERENCES "Host" ("id") ON DELETE RESTRICT ON UPDATE CASCADE,
    CONSTRAINT "Job_policyId_fkey" FOREIGN KEY ("policyId") REFERENCES "Policy" ("id") ON DELETE SET NULL ON UPDATE CASCADE
);
INSERT INTO "new_Job" ("attempt", "createdAt", "hostId", "id", "idempotencyKey", "kind", "params", "policyId", "scheduledFor", "state", "updatedAt") SELECT "attempt", "createdAt", "hostId", "id", "idempotencyKey", "kind", "params", "policyId", "scheduledFor", "state", "updatedAt" FROM "Job";
DROP TABLE "Job";
ALTER TABLE "new_Job" RENAME TO "Job";
CREATE UNIQUE INDEX "Job_idempotencyKey_key" ON "Job"("idempotencyKey");
CREATE INDEX "Job_state_scheduledFor_idx" ON "Job"("state", "scheduledFor");
CREATE INDEX "Job_hostId_scheduledFor_idx" ON "Job"("hostId", "scheduledFor");
CREATE INDEX "Job_policyId_idx" ON "Job"("policyId");
CREATE TABLE "new_JobRun" (
    "id" TEXT NOT NULL PRIMARY KEY,
    "jobId" TEXT NOT NULL,
    "hostId" TEXT NOT NULL,
    "state" TEXT NOT NULL DEFAULT 'running',
    "locallyScheduled" BOOLEAN NOT NULL DEFAULT false,
    "progress" JSONB,
    "details" JSONB,
    "phase" TEXT,
    "startedAt" DATETIME NOT NULL,
    "finishedAt" DATETIME,
    "bytesRead" BIGINT NOT NULL DEFAULT 0,
    "bytesAdded" BIGINT NOT NULL DEFAULT 0,
    "errorCode" TEXT,
    "errorMessage" TEXT,
    "idempotencyKey" TEXT NOT NULL,
    CONSTRAINT "JobRun_jobId_fkey" FOREIGN KEY ("jobId") REFERENCES "Job" ("id") ON DELETE CASCADE ON UPDATE CASCADE,
    CONSTRAINT "JobRun_hostId_fkey" FOREIGN KEY ("hostId") REFERENCES "Host" ("id") ON DELETE RESTRICT ON UPDATE CASCADE
);
INSERT INTO "new_JobRun" ("bytesAdded", "bytesRead", "errorCode", "errorMessage", "finishedAt", "hostId", "id", "idempotencyKey", "jobId", "phase", "startedAt", "state") SELECT "bytesAdded", "bytesRead", "errorCode", "errorMessage", "finishedAt", "hostId", "id", "idempotencyKey", "jobId", "phase", "startedAt", "state" FROM "JobRun";
DROP TABLE "JobRun";
ALTER TABLE "new_JobRun" RENAME TO "JobRun";
CREATE UNIQUE INDEX "JobRun_idempotencyKey_key" ON "JobRun"("idempotencyKey");
CREATE INDEX "JobRun_jobId_idx" ON "JobRun"("jobId");
CREATE INDEX "JobRun_hostId_startedAt_idx" ON "JobRun"("hostId", "startedAt");
CREATE INDEX "JobRun_state_idx" ON "JobRun"("state");
PRAGMA foreign_keys=ON;
PRAGMA defer_foreign_keys=OFF;
