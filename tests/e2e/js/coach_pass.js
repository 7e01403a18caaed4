// The coach's side of a pass from the editor: the exercise's lens says an answer waits for
// review; the code action menu (Ctrl+.) offers Pass first, as an action, not a quick fix; once
// passed, the lens goes (the server asks VS Code to fetch lenses again when the state changes).
// Params: url, chromium, artifacts, path, line.

'use strict';

const { runDriver, openWorkbench, waitForStatus, openFile, goToLine, openActionMenu, chooseAction } = require('./workbench');

const LENS = '.codelens-decoration';

runDriver(async ({ page, params, result, step, shot }) => {
    step('open workbench');
    await openWorkbench(page, params.url);
    result.status_bar = await waitForStatus(page, /1 to review/);

    step(`the review lens at ${params.path}:${params.line}`);
    await openFile(page, params.path);
    await goToLine(page, params.line);
    const review = page.locator(LENS).filter({ hasText: 'review' }).first();
    await review.waitFor({ timeout: 60_000 });
    result.lens_before = ((await review.textContent()) ?? '').trim();
    await shot('01-review-lens');

    step('Pass, from the code action menu');
    result.menu = await openActionMenu(page, params.line);
    await shot('02-action-menu');
    result.passed_via = await chooseAction(page, 'Pass');
    result.status_bar_after = await waitForStatus(page, /nothing to review/);

    step('the review lens goes');
    await review.waitFor({ state: 'detached', timeout: 30_000 });
    result.lenses_after = (await page.locator(LENS).allTextContents()).map((text) => text.trim());
    await goToLine(page, params.line);
    await shot('03-passed');
});
