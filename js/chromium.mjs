// Headless Chromium for the console's tests and measurements: Debian's chromium (or
// $CHROMIUM), driven by playwright-core, with nothing reaching out to the network.
import { existsSync } from "node:fs";
import { chromium } from "playwright-core";

export const executablePath = process.env.CHROMIUM ?? "/usr/bin/chromium";

export function launch() {
  if (!existsSync(executablePath)) throw new Error(`${executablePath} is missing: make test installs Debian's chromium`);
  return chromium.launch({
    executablePath,
    headless: true,
    args: ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking",
      "--disable-component-update", "--disable-sync"],
  });
}

/** A new page of `browser`, and the list its uncaught errors are collected in. */
export async function openPage(browser, options) {
  const page = await browser.newPage(options);
  const errors = [];
  page.on("pageerror", (e) => errors.push(e.message));
  return { page, errors };
}
