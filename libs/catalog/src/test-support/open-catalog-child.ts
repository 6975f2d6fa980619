// A controller start-up in its own process: waits until START_AT (epoch ms) so that
// several children open the catalog at the same moment, then prints what it applied.
import { openCatalog } from "../open-catalog.js";

const { CATALOG_URL: url = "", START_AT: startAt = "0" } = process.env;
await new Promise((resolve) => setTimeout(resolve, Number(startAt) - Date.now()));
const catalog = await openCatalog({ url });
console.log(JSON.stringify(catalog.appliedMigrations));
await catalog.close();
