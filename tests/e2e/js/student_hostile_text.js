// The student's tree, Problems panel and hover for an exercise whose text holds
// escape sequences, a bidirectional override and a zero-width space: each is
// shown as a visible mark, never acted on.
// Params: url, chromium, artifacts, path (workspace-relative), line (1-based), topic_word.

'use strict';

const { runDriver, openWorkbench, waitForStatus, runCommand, openFile, goToLine } = require('./workbench');

runDriver(async ({ page, params, result, step, shot }) => {
    step('open workbench');
    await openWorkbench(page, params.url);
    result.status_bar = await waitForStatus(page, /to answer/);

    step('show the Colearner tree');
    await runCommand(page, 'View: Show Colearner');
    const rows = page.locator('#workbench\\.parts\\.sidebar .monaco-list-row');
    const row = rows.filter({ hasText: params.topic_word }).first();
    await row.waitFor({ timeout: 60_000 });
    result.tree_rows = (await rows.allTextContents()).map((text) => text.trim());
    result.tree_row = ((await row.textContent()) ?? '').trim();
    await shot('01-tree');

    step('the Problems panel at the anchored line');
    await openFile(page, params.path);
    await goToLine(page, params.line);
    await page.keyboard.press('Control+Shift+M');
    const problems = page.locator('.markers-panel .monaco-list-row');
    await problems.filter({ hasText: params.topic_word }).first().waitFor({ timeout: 60_000 });
    result.problems = (await problems.allTextContents()).map((text) => text.trim());
    await shot('02-problems');

    step('hover on the anchored line');
    await page.locator('.editor-instance .monaco-editor .view-lines').first().click();
    await goToLine(page, params.line);
    await page.keyboard.press('Control+K');
    await page.keyboard.press('Control+I');
    const hover = page.locator('.monaco-hover-content').filter({ hasText: params.topic_word }).first();
    await hover.waitFor({ timeout: 30_000 });
    result.hover = ((await hover.textContent()) ?? '').trim();
    await shot('03-hover');
});
