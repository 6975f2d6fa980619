// Compression codecs that install offline from npm on x86-64 and arm64, on
// PiWardrive data cut into 1 MiB blobs (what the repository compresses):
// throughput and ratio per codec, to choose the repository's default.
// usage: node tools/bench/codec-bench.mjs DIR [DIR...]   (e.g. the reference dataset)
import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import zlib from "node:zlib";
import { Compressor } from "zstd-napi";

const files = [];
const walk = (d) => {
  for (const e of readdirSync(d, { withFileTypes: true })) {
    const p = join(d, e.name);
    if (e.isDirectory()) walk(p);
    else if (e.isFile()) files.push(p);
  }
};
process.argv.slice(2).forEach(walk);
files.sort();
// A deterministic sample of about 256 MiB.
const sample = [];
let size = 0;
for (let i = 0; i < files.length && size < 256 * 1024 * 1024; i += 3) {
  const b = readFileSync(files[i]);
  sample.push(b);
  size += b.length;
}
const data = Buffer.concat(sample);
const blobs = [];
for (let o = 0; o < data.length; o += 1 << 20) blobs.push(data.subarray(o, o + (1 << 20)));

function run(name, fn) {
  const times = [];
  let out = 0;
  for (let r = 0; r < 3; r++) {
    out = 0;
    const t = process.hrtime.bigint();
    for (const b of blobs) out += fn(b).length;
    times.push(Number(process.hrtime.bigint() - t) / 1e9);
  }
  times.sort((a, b) => a - b);
  console.log(
    `| ${name} | ${(data.length / 1048576 / times[1]).toFixed(0)} | ${(out / data.length).toFixed(3)} |`,
  );
}

console.log(
  `sample ${(data.length / 1048576).toFixed(0)} MiB from ${files.length} files, 1 MiB blobs, median of 3\n`,
);
console.log("| codec | MB/s (one core) | stored / raw |\n|---|---|---|");
for (const level of [1, 3, 6]) {
  const c = new Compressor();
  c.setParameters({ compressionLevel: level });
  run(`zstd ${level} (zstd-napi)`, (b) => c.compress(b));
}
run("deflate 1 (node:zlib)", (b) => zlib.deflateRawSync(b, { level: 1 }));
run("deflate 6 (node:zlib)", (b) => zlib.deflateRawSync(b, { level: 6 }));
run("brotli 1 (node:zlib)", (b) =>
  zlib.brotliCompressSync(b, { params: { [zlib.constants.BROTLI_PARAM_QUALITY]: 1 } }),
);
run("brotli 4 (node:zlib)", (b) =>
  zlib.brotliCompressSync(b, { params: { [zlib.constants.BROTLI_PARAM_QUALITY]: 4 } }),
);
