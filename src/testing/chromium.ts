/**
 * Debian's Chromium for the browser tests and the chat-page benchmark (never a downloaded browser:
 * GUIDE §1). The flags keep it headless and off the network: without the background-networking
 * ones it keeps trying hosts this machine cannot reach.
 */
export const CHROMIUM = "/usr/bin/chromium";

/** Launch options for playwright-core's `chromium.launchPersistentContext`. */
export const CHROMIUM_LAUNCH: { executablePath: string; headless: boolean; args: string[] } = {
  executablePath: CHROMIUM,
  headless: true,
  args: [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-dev-shm-usage",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
  ],
};
