// Issue 15, the student's side: the mistake the coach added from a selection of the student's
// version is a warning on those lines of the student's file (Problems panel and squiggle).
// Params: url, chromium, artifacts, path, line, mistake.

'use strict';

const { runDriver, openWorkbench, waitForStatus, openFile, goToLine } = require('./workbench');

runDriver(async ({ page, params, result, step, shot }) => {
    step('open workbench');
    await openWorkbench(page, params.url);
    result.status_bar = await waitForStatus(page, /to answer/);

    step(`the warning at ${params.path}:${params.line}`);
    await openFile(page, params.path);
    await goToLine(page, params.line);
    await page.keyboard.press('Control+Shift+M');
    const rows = page.locator('.markers-panel .monaco-list-row');
    const deadline = Date.now() + 60_000;
    let row = null;
    // The exercise's comment thread may bring the Comments panel up meanwhile: show Problems again.
    const problemsTab = page.locator('.part.panel .composite-bar .action-label').filter({ hasText: /^problems/i }).first();
    do {
        if ((await rows.count()) === 0) {
            await problemsTab.click({ timeout: 2_000 }).catch(() => undefined);
        }
        result.problems = (await rows.allTextContents()).map((text) => text.trim());
        const index = result.problems.findIndex((text) => text.includes(params.mistake));
        if (index >= 0) {
            row = rows.nth(index);
            break;
        }
        await page.waitForTimeout(500);
    } while (Date.now() < deadline);
    if (!row) {
        throw new Error(`no Problems row with "${params.mistake}" within 60 s; Problems: ${JSON.stringify(result.problems)}`);
    }
    result.row = ((await row.textContent()) ?? '').trim();
    result.row_icons = await row.locator('.codicon').evaluateAll((els) => els.map((e) => e.className));
    await page.locator('.editor-instance .monaco-editor .view-lines').first().click();
    await goToLine(page, params.line); // the exercise's thread above pushed it down: bring it into view
    // The editor draws a squiggle only for lines in view, after its decorations catch up with the
    // diagnostics: wait for one rather than count once.
    const squiggles = page.locator('.editor-instance .squiggly-warning');
    await squiggles.first().waitFor({ state: 'attached', timeout: 20_000 }).catch(() => undefined);
    result.warning_squiggles = await squiggles.count();
    await shot('student-review-01-warning-on-the-line');
});
