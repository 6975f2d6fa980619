// Builds the dashboard into dist/: one JavaScript and one CSS bundle with
// content hashes in their names (served as immutable), an index.html that
// names them (served no-cache), and a Brotli and a gzip copy of each file so
// the controller serves them compressed without compressing per request.
import { mkdir, readdir, readFile, rm, writeFile } from "node:fs/promises";
import { basename, join } from "node:path";
import { promisify } from "node:util";
import { brotliCompress, constants, gzip } from "node:zlib";
import { build } from "esbuild";

const root = import.meta.dirname;
const dist = join(root, "dist");
const assets = join(dist, "assets");

await rm(dist, { recursive: true, force: true });
const result = await build({
  entryPoints: [join(root, "src/main.tsx"), join(root, "src/styles.css")],
  bundle: true,
  minify: true,
  format: "esm",
  target: ["es2022"],
  jsx: "automatic",
  jsxImportSource: "preact",
  entryNames: "[name]-[hash]",
  outdir: assets,
  metafile: true,
  legalComments: "none",
  logLevel: "warning",
});

const outputs = Object.keys(result.metafile.outputs).map((p) => basename(p));
const script = outputs.find((f) => f.endsWith(".js"));
const style = outputs.find((f) => f.endsWith(".css"));
if (!script || !style) throw new Error(`esbuild wrote no script or style: ${outputs.join(", ")}`);

const html = (await readFile(join(root, "src/index.html"), "utf8"))
  .replace("%SCRIPT%", `/assets/${script}`)
  .replace("%STYLE%", `/assets/${style}`);
await writeFile(join(dist, "index.html"), html);

const brotli = promisify(brotliCompress);
const gz = promisify(gzip);
async function compress(file) {
  const body = await readFile(file);
  const br = await brotli(body, { params: { [constants.BROTLI_PARAM_QUALITY]: 11 } });
  await writeFile(`${file}.br`, br);
  await writeFile(`${file}.gz`, await gz(body, { level: 9 }));
}
await mkdir(assets, { recursive: true });
const files = [join(dist, "index.html"), ...(await readdir(assets)).map((f) => join(assets, f))];
await Promise.all(files.map(compress));
console.log(`dashboard built: ${files.map((f) => basename(f)).join(", ")}`);
