// Drives the Swagger UI of a running jac-scale server in Debian's headless chromium, as a
// person would: open /docs, "Authorize" with a bearer token, "Try it out" on one walker,
// "Execute", then print what the page shows as one JSON line and save a screenshot.
//
// usage: node swagger-try-it-out.mjs <base-url> <token> <operation-dom-id> <body-json> <screenshot.png>
// (run by tests/blackbox/docs.rs; CHROMIUM overrides /usr/bin/chromium)
import { chromium } from "playwright-core";

const [base, token, operationId, body, screenshot] = process.argv.slice(2);
const browser = await chromium.launch({
  executablePath: process.env.CHROMIUM || "/usr/bin/chromium",
  args: ["--no-sandbox", "--disable-gpu"],
});
try {
  const page = await browser.newPage({ viewport: { width: 1280, height: 1600 } });
  await page.goto(`${base}/docs`);
  await page.waitForSelector(".swagger-ui .information-container .title", { timeout: 30000 });

  // Authorize: the bearer scheme's value field, then Authorize and Close.
  await page.click(".swagger-ui .auth-wrapper button.authorize");
  const modal = page.locator(".swagger-ui .modal-ux");
  await modal.locator("input").first().fill(token);
  await modal.locator("button.authorize").first().click();
  await modal.locator("button.btn-done").first().click();

  // Open the operation, Try it out, replace the example body, Execute.
  const op = page.locator(`#${operationId}`);
  await op.locator(".opblock-summary").first().click();
  await op.locator("button.try-out__btn").click();
  const textarea = op.locator("textarea.body-param__text");
  await textarea.fill(body);
  await op.locator("button.execute").click();
  const status = op.locator(".responses-wrapper .live-responses-table tbody .response-col_status").first();
  await status.waitFor({ timeout: 30000 });
  const responseBody = await op
    .locator(".responses-wrapper .live-responses-table tbody .response-col_description pre")
    .first()
    .innerText();
  const curl = await op.locator(".curl-command").first().innerText();
  await op.locator(".responses-wrapper .live-responses-table").first().scrollIntoViewIfNeeded();
  await page.screenshot({ path: screenshot });
  console.log(JSON.stringify({ status: (await status.innerText()).trim(), body: responseBody, curl }));
} finally {
  await browser.close();
}
