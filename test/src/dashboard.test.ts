import { randomBytes } from "node:crypto";
import { existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from "node:fs";
import type { Server } from "node:http";
import { request } from "node:https";
import { join } from "node:path";
import { makeTempDir, stopAll } from "@pwdr/test-harness";
import type { Browser, BrowserContext, Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { DaemonProcess } from "./cli-process.js";
import {
  buildDashboard,
  launchChromium,
  SCREENSHOTS,
  startHealthServer,
  writeLightAgentConfig,
} from "./dashboard-fixture.js";
import { ControllerProcess, type EnrolledAgent, enrollAgent, startAgentDaemon } from "./fleet-fixture.js";

afterAll(stopAll);

interface Agent extends EnrolledAgent {
  daemon: DaemonProcess;
  files: string;
}

const PHONE = { width: 390, height: 844 };

/** GET with only a cookie, as a script on another page cannot: what the controller answers it. */
function statusWithCookie(url: string, cookie: string, caPem: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const req = request(url, { headers: { cookie }, ca: caPem }, (res) => {
      res.resume();
      resolve(res.statusCode ?? 0);
    });
    req.on("error", reject);
    req.end();
  });
}

/** Every file below `dir`, as absolute paths, sorted. */
function filesBelow(dir: string): string[] {
  return readdirSync(dir, { recursive: true, withFileTypes: true })
    .filter((e) => e.isFile())
    .map((e) => join(e.parentPath, e.name))
    .sort();
}

/** The states a selector's data-state took while `until` had not yet returned true, in order, repeats collapsed. */
async function watchStates(
  page: Page,
  selector: string,
  done: (state: string) => boolean,
): Promise<string[]> {
  const seen: string[] = [];
  const deadline = Date.now() + 120_000;
  while (Date.now() < deadline) {
    const state = await page.locator(selector).first().getAttribute("data-state", { timeout: 30_000 });
    if (state && seen.at(-1) !== state) seen.push(state);
    if (state && done(state)) return seen;
    await page.waitForTimeout(200);
  }
  throw new Error(`${selector} never finished; states seen: ${seen.join(" → ")}`);
}

describe("the web dashboard in Debian's chromium, against a controller and agents as real processes", () => {
  let dir: string;
  let controller: ControllerProcess;
  let health: { url: string; server: Server };
  let browser: Browser;
  let context: BrowserContext;
  let page: Page;
  const agents = new Map<string, Agent>();
  const pageProblems: string[] = [];

  async function startAgent(name: string, bandwidthLimit?: string): Promise<Agent> {
    const agentDir = join(dir, `agent-${name}`);
    const enrolled = await enrollAgent(controller, name, agentDir, { role: "edge" });
    const files = join(dir, `files-${name}`);
    const config = writeLightAgentConfig({
      name,
      agentDir,
      dataDir: files,
      healthUrl: health.url,
      ...(bandwidthLimit ? { bandwidthLimit } : {}),
    });
    mkdirSync(join(files, "scans"), { recursive: true });
    writeFileSync(join(files, "scans", "wifi.json"), JSON.stringify({ host: name }).repeat(200));
    const agent = { ...enrolled, files, daemon: startAgentDaemon(config) };
    agents.set(name, agent);
    return agent;
  }

  const shot = (name: string, target: Page = page) =>
    target.screenshot({ path: join(SCREENSHOTS, `${name}.png`), fullPage: true });

  beforeAll(async () => {
    buildDashboard();
    mkdirSync(SCREENSHOTS, { recursive: true });
    dir = makeTempDir("pwdr-e2e-dashboard-");
    health = await startHealthServer();
    controller = new ControllerProcess({
      dataDir: join(dir, "controller"),
      serveArgs: ["--scheduler-interval", "1s"],
    });
    await controller.start();
    const [a] = [await startAgent("pi-a", "1M"), await startAgent("pi-b"), await startAgent("pi-c")];
    // Incompressible, behind a 1 MiB/s limit: pi-a's backup runs for seconds, long enough to watch.
    writeFileSync(join(a.files, "capture.pcap"), randomBytes(4 * 1024 * 1024));
    await Promise.all(
      [...agents.values()].map((x) => x.daemon.waitForLog("connected to controller", 60_000)),
    );
    // No backup schedule (the test starts them), but an RPO the hosts without a backup soon miss.
    await (await controller.api()).post("/api/v1/policies", {
      name: "edge",
      selector: { role: "edge" },
      scheduling: { rpo: "10s" },
    });
    browser = await launchChromium();
    context = await browser.newContext({ ignoreHTTPSErrors: true, viewport: { width: 1280, height: 860 } });
    page = await context.newPage();
    // A script error or a CSP violation (inline code, a foreign origin) would show here.
    page.on("pageerror", (err) => pageProblems.push(String(err)));
    page.on("console", (message) => {
      if (message.type() === "error" && /Content.Security.Policy/i.test(message.text()))
        pageProblems.push(message.text());
    });
  }, 240_000);

  afterAll(async () => {
    await browser?.close();
    await Promise.all([...agents.values()].map((a) => a.daemon.stop("SIGKILL")));
    await controller?.stop("SIGKILL");
    health?.server.close();
  });

  it("signs in with an API token into an HttpOnly session and shows the three hosts", async () => {
    await page.goto(controller.apiUrl);
    await page.fill("input[name=token]", await controller.adminToken());
    await page.click("button[type=submit]");
    const rows = page.locator("#fleet tbody tr");
    await expect.poll(() => rows.count(), { timeout: 30_000 }).toBe(3);
    const shown = await rows.evaluateAll((trs) => trs.map((tr) => tr.getAttribute("data-host-id")));
    expect(shown.sort()).toEqual([...agents.values()].map((a) => a.hostId).sort());
    await expect.poll(() => page.locator("#fleet [data-state=online]").count(), { timeout: 30_000 }).toBe(3);

    // The session is a cookie no script can read; the token is nowhere in the page's storage.
    const [cookie] = await context.cookies();
    expect(cookie).toMatchObject({
      name: "__Host-pwdr_session",
      httpOnly: true,
      secure: true,
      sameSite: "Strict",
    });
    const visible = await page.evaluate<{ cookie: string }>(
      "({ cookie: document.cookie, local: JSON.stringify(localStorage), " +
        "session: JSON.stringify(sessionStorage), html: document.documentElement.outerHTML })",
    );
    const token = await controller.adminToken();
    expect(visible.cookie).toBe("");
    expect(JSON.stringify(visible)).not.toContain(token);
    await shot("fleet-signed-in");
  });

  it("starts a backup from the host page and follows its live progress to completion", async () => {
    await page.click(`#fleet a[href="#/hosts/${agents.get("pi-a")?.hostId}"]`);
    await page.click("#backup-now");
    const job = page.locator("#jobs tr[data-kind=backup]").first();
    // Live progress while it runs (the host page polls the job every second).
    await job.locator(".progress").waitFor({ timeout: 60_000 });
    expect(await job.locator(".phase").textContent()).not.toBe("");
    await shot("host-detail-backup-running");
    await expect.poll(() => job.getAttribute("data-state"), { timeout: 90_000 }).toBe("succeeded");
    await page.locator("#points tbody tr").first().waitFor({ timeout: 30_000 });
    await shot("host-detail");
  });

  it("shows the host's fleet drills and their RTO trend", async () => {
    const [a, b] = [agents.get("pi-a") as Agent, agents.get("pi-b") as Agent];
    expect(await page.locator("text=No fleet drills of this host yet").count()).toBe(1);
    // pi-a's point restored into a sandbox on pi-b (its files are all it has), checked, timed.
    await (await controller.api()).post("/api/v1/dr/drills", {
      hostId: a.hostId,
      targetHostId: b.hostId,
      dryRun: false,
    });
    await expect
      .poll(() => page.locator("#drills tbody tr [data-state]").first().getAttribute("data-state"), {
        timeout: 90_000,
      })
      .toBe("succeeded");
    expect(await page.locator("#drill-trend").textContent()).toMatch(/1\/1 drills succeeded; RTO last \d+ s/);
    expect(await page.locator("#drills tbody tr td[data-label=Onto]").first().textContent()).toBe(
      (await (await controller.api()).get<{ name: string }>(`/api/v1/hosts/${b.hostId}`)).name,
    );
  });

  it("browses the backed-up files and restores one directory, dry run first, under a target prefix", async () => {
    await page.click("#points tbody tr a");
    await page.click("#snapshots tr[data-source=data] a");
    const a = agents.get("pi-a") as Agent;
    const snapshotUrl = page.url().replace(/path=[^&]*/, `path=${encodeURIComponent(a.files)}`);
    await page.goto(snapshotUrl);
    await page.locator("#tree tr[data-type=file]", { hasText: "capture.pcap" }).waitFor({ timeout: 30_000 });
    expect(await page.locator("#tree tr[data-type=dir] a").allTextContents()).toEqual(["scans/"]);
    await shot("snapshot-browser");

    const scans = join(a.files, "scans");
    const prefix = join(dir, "restored");
    await page.click(`#tree button[data-select="${scans}"]`);
    expect(await page.locator("#restore-what code").textContent()).toBe(scans);
    await page.fill("#restore-form input[name=targetPrefix]", prefix);
    // Nothing is restored for real before a dry run of this very request succeeded.
    expect(await page.locator("#restore-confirm").isDisabled()).toBe(true);
    await page.click("#restore-dry-run");
    await expect
      .poll(() => page.locator("#restore-dry-result").getAttribute("data-state"), { timeout: 60_000 })
      .toBe("succeeded");
    expect(await page.locator("#restore-dry-result ul.touches li").allTextContents()).toEqual([
      `${prefix}${scans}`,
    ]);
    expect(existsSync(prefix)).toBe(false);
    await shot("snapshot-restore-dry-run");
    await page.click("#restore-confirm");
    await page.waitForURL(/#\/jobs\//);
    await expect
      .poll(() => page.locator("h1 [data-state]").getAttribute("data-state"), { timeout: 60_000 })
      .toBe("succeeded");
    // On the agent's host: that directory, and nothing else of the source, under the prefix.
    expect(filesBelow(prefix)).toEqual([`${prefix}${scans}/wifi.json`]);
    expect(readFileSync(`${prefix}${scans}/wifi.json`, "utf8")).toBe(
      readFileSync(join(scans, "wifi.json"), "utf8"),
    );
  });

  it("shows a policy and the validation errors of a bad edit next to the field", async () => {
    await page.goto(`${controller.apiUrl}/#/policies`);
    await page.click("#policies a:text-is('edge')");
    await page.fill("#policy-form input[name=schedule]", "61 * * * *");
    await page.click("#policy-form button[type=submit]");
    const problems = page.locator("#policy-form .field-errors[data-field=schedule] li");
    await problems.first().waitFor({ timeout: 30_000 });
    expect(await problems.first().textContent()).toMatch(/^schedule: /);
    await shot("policy-validation");
    await page.fill("#policy-form input[name=schedule]", "0 3 * * *");
    await page.click("#policy-form button[type=submit]");
    await page.locator("#policy-form .flag.good").waitFor({ timeout: 30_000 });
    // The saved flag shows before the policy list has reloaded.
    await expect
      .poll(() => page.locator("#policies td[data-label=Schedule]").allTextContents(), { timeout: 30_000 })
      .toEqual(["0 3 * * *"]);
  });

  it("plans a central restore (dry run), starts it after confirmation and shows the steps change live", async () => {
    const failed = agents.get("pi-a") as Agent;
    await failed.daemon.stop("SIGKILL");
    const spare = await startAgent("pi-spare");
    await spare.daemon.waitForLog("connected to controller", 60_000);

    await page.goto(`${controller.apiUrl}/#/dr`);
    await page.selectOption("#dr-form select[name=failed]", failed.hostId);
    await page.selectOption("#dr-form select[name=replacement]", spare.hostId);
    await page.click("#dr-plan-button");
    await page.locator("#dr-plan").waitFor({ timeout: 30_000 });
    expect(await page.locator("#dr-assessment li.not-ok").allTextContents()).toEqual([]);
    expect(await page.locator("#dr-plan ol.steps > li b").allTextContents()).toEqual([
      "assess",
      "stop-services",
      "restore-data",
      "start-services",
      "verify-health",
      "take-over",
    ]);
    await shot("dr-plan");
    // Nothing starts before the operator typed the failed host's name.
    expect(await page.locator("#dr-start").isDisabled()).toBe(true);
    const api = await controller.api();
    const { name } = await api.get<{ name: string }>(`/api/v1/hosts/${failed.hostId}`);
    await page.fill("#dr-confirm input[name=confirm]", name);
    await page.click("#dr-start");
    await page.waitForURL(/#\/dr\/runs\//);

    const restoreStates = await watchStates(page, "#dr-steps [data-step=restore-data]", (s) =>
      ["succeeded", "failed", "cancelled", "skipped"].includes(s),
    );
    expect(restoreStates[0]).toBe("pending");
    expect(restoreStates.at(-1)).toBe("succeeded");
    await expect
      .poll(() => page.locator("h1 [data-state]").getAttribute("data-state"), { timeout: 90_000 })
      .toBe("succeeded");
    const steps = page.locator("#dr-steps li[data-step]");
    expect(await steps.evaluateAll((li) => li.map((l) => l.getAttribute("data-state")))).toEqual(
      Array(6).fill("succeeded"),
    );
    expect(await page.locator("#dr-report .stat b").first().textContent()).toMatch(/\d+ (s|min)/);
    await shot("dr-run");
  });

  it("fits a phone-size screen", async () => {
    const runUrl = page.url();
    await page.goto(`${controller.apiUrl}/#/`);
    // Hosts past the policy's RPO are highlighted (the two that never backed up, at least).
    await expect.poll(() => page.locator("#fleet tr.breach").count(), { timeout: 30_000 }).toBeGreaterThan(1);
    await shot("fleet-overview");
    const phone = await context.newPage();
    await phone.setViewportSize(PHONE);
    await phone.goto(controller.apiUrl);
    await phone.locator("#fleet tbody tr").first().waitFor({ timeout: 30_000 });
    // Stacked cards, no sideways scrolling.
    expect(await phone.evaluate<number>("document.documentElement.scrollWidth")).toBeLessThanOrEqual(
      PHONE.width,
    );
    await shot("phone-fleet-overview", phone);
    await phone.goto(runUrl);
    await phone.locator("#dr-steps li").first().waitFor({ timeout: 30_000 });
    expect(await phone.evaluate<number>("document.documentElement.scrollWidth")).toBeLessThanOrEqual(
      PHONE.width,
    );
    await shot("phone-dr-run", phone);
    await phone.close();
  });

  it("shows in the audit log what the operator did through the dashboard", async () => {
    await page.goto(`${controller.apiUrl}/#/audit`);
    await page.locator("#audit tbody tr").first().waitFor({ timeout: 30_000 });
    const actions = await page.locator("#audit td[data-label=Action]").allTextContents();
    for (const action of ["session.create", "job.create", "restore.start", "policy.update", "dr.restore"])
      expect(actions).toContain(action);
    const actors = await page.locator("#audit td[data-label=Actor]").allTextContents();
    expect(actors).toContain("token:e2e-admin");
  });

  it("signs out: the session ends on the controller, not only in the browser", async () => {
    const [cookie] = await context.cookies();
    const header = `${cookie?.name}=${cookie?.value}`;
    const session = `${controller.apiUrl}/api/v1/session`;
    expect(await statusWithCookie(session, header, controller.caPem)).toBe(200);
    await page.click("text=Sign out");
    await page.locator("input[name=token]").waitFor();
    expect(await context.cookies()).toEqual([]);
    expect(await statusWithCookie(session, header, controller.caPem)).toBe(401);
    expect(pageProblems).toEqual([]);
  });
});
