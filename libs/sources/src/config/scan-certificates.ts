import { certificateBlocks } from "./certificate-files.js";
import type { CertificateRecord } from "./config-types.js";
import { describeX509, type X509Description } from "./describe-x509.js";

const DAY_MS = 86_400_000;

interface Expiry {
  now: Date;
  warningDays: number;
}

export interface CertificateScan {
  certificates: CertificateRecord[];
  warnings: string[];
}

/** Describes the certificates among `files` and warns about those expiring within `warningDays`. */
export async function scanCertificates(
  files: readonly { path: string; size: number }[],
  now: Date,
  warningDays: number,
): Promise<CertificateScan> {
  const scan: CertificateScan = { certificates: [], warnings: [] };
  for (const file of files) {
    const blocks = await readBlocks(file.path, file.size, scan.warnings);
    blocks.forEach((block, index) => {
      const record = describeBlock(file.path, block, index, { now, warningDays }, scan.warnings);
      if (!record) return;
      scan.certificates.push(record);
      if (record.expiresSoon) scan.warnings.push(expiryWarning(record));
    });
  }
  return scan;
}

async function readBlocks(path: string, size: number, warnings: string[]): Promise<string[]> {
  try {
    return await certificateBlocks(path, size);
  } catch (err) {
    // The backup itself reports unreadable files; the scan only notes it skipped one.
    warnings.push(
      `${path}: not scanned for certificates (${(err as NodeJS.ErrnoException).code ?? "read failed"})`,
    );
    return [];
  }
}

function describeBlock(
  path: string,
  block: string,
  index: number,
  expiry: Expiry,
  warnings: string[],
): CertificateRecord | undefined {
  try {
    return toRecord(path, index, describeX509(block), expiry);
  } catch {
    // The parser's message is dropped: a damaged block is file content.
    warnings.push(`${path}: certificate #${index + 1} could not be parsed`);
    return undefined;
  }
}

function toRecord(path: string, index: number, d: X509Description, expiry: Expiry): CertificateRecord {
  const daysLeft = Math.floor((d.notAfter.getTime() - expiry.now.getTime()) / DAY_MS);
  return {
    path,
    index,
    subject: d.subject,
    issuer: d.issuer,
    commonName: d.commonName,
    dnsNames: d.dnsNames,
    ipAddresses: d.ipAddresses,
    notBefore: d.notBefore.toISOString(),
    notAfter: d.notAfter.toISOString(),
    daysLeft,
    fingerprintSha256: d.fingerprintSha256,
    isCa: d.isCa,
    expiresSoon: daysLeft < expiry.warningDays,
  };
}

function expiryWarning(c: CertificateRecord): string {
  const what = `${c.path}: certificate ${c.subject}`;
  if (c.daysLeft < 0) return `${what} expired on ${c.notAfter} (${-c.daysLeft} days ago)`;
  return `${what} expires on ${c.notAfter} (in ${c.daysLeft} days)`;
}
