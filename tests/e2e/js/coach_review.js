// Issue 15, the coach's side: the answer waits in the "Waiting for Review" tree; the code lens
// "Show the student's change" at the top of the evidence file opens VS Code's diff editor (the
// base against the student's version, read-only); a selection in the student's version becomes a
// mistake ("Add a Mistake Here…"); "Send Review Feedback…" sends it with a revise.
// Params: url, chromium, artifacts, path, who, topic, added, mistake_from, mistake_to, mistake, next_step.

'use strict';

const { runDriver, openWorkbench, waitForStatus, runCommand, openFile, goToLine } = require('./workbench');

const LENS = '.codelens-decoration';
const QUICK_INPUT = '.quick-input-widget';

runDriver(async ({ page, params, result, step, shot }) => {
    step('open workbench');
    await openWorkbench(page, params.url);
    result.status_bar = await waitForStatus(page, /1 to review/);

    step('the answer in the "Waiting for Review" tree');
    await runCommand(page, 'View: Show Colearner');
    const rows = page.locator('#workbench\\.parts\\.sidebar .monaco-list-row');
    await rows.filter({ hasText: `${params.who} · ${params.topic}` }).first().waitFor({ timeout: 60_000 });
    await rows.filter({ hasText: params.path.split('/').pop() }).first().waitFor({ timeout: 30_000 });
    result.sidebar_rows = (await rows.allTextContents()).map((t) => t.trim());
    result.view_titles = (await page.locator('#workbench\\.parts\\.sidebar .pane-header .title').allTextContents()).map((t) => t.trim());
    await shot('coach-review-01-waiting-for-review');
    await rows.filter({ hasText: `${params.who} · ${params.topic}` }).first().click(); // opens its exercise
    await page.locator('.tabs-container .tab.active').filter({ hasText: params.path.split('/').pop() }).waitFor({ timeout: 30_000 });
    result.opened_from_tree = ((await page.locator('.tabs-container .tab.active').first().textContent()) ?? '').trim();

    step(`the lens "Show the student's change" at the top of ${params.path}`);
    await openFile(page, params.path);
    await goToLine(page, 1);
    const lens = page.locator(`${LENS} a`).filter({ hasText: "Show the student's change" }).first();
    await lens.waitFor({ timeout: 60_000 });
    result.lens = ((await lens.textContent()) ?? '').trim();
    await shot('coach-review-02-lens');

    step('click it: the diff editor, base against the student');
    await lens.click();
    const diff = page.locator('.monaco-diff-editor').first();
    await diff.waitFor({ timeout: 30_000 });
    const modified = diff.locator('.editor.modified .view-lines').first();
    const original = diff.locator('.editor.original .view-lines').first();
    await modified.filter({ hasText: params.added.trim() }).waitFor({ timeout: 30_000 });
    result.tab = ((await page.locator('.tabs-container .tab.active').first().textContent()) ?? '').trim();
    const text = async (side) => (await side.innerText()).replace(/\u00a0/g, ' '); // Monaco draws spaces as no-break spaces
    result.modified_text = await text(modified);
    result.original_text = await text(original);
    result.inserted_lines = await diff.locator('.editor.modified .line-insert, .editor.modified .char-insert').count();
    await shot('coach-review-03-diff-editor');

    step("the student's version is read-only: typing changes nothing");
    await modified.click();
    await page.keyboard.press('End');
    await page.keyboard.type('X');
    const refused = page.locator('.monaco-editor-overlaymessage').filter({ hasText: 'read-only' }).first();
    await refused.waitFor({ timeout: 10_000 }).catch(() => undefined);
    result.read_only_message = ((await refused.textContent().catch(() => '')) ?? '').trim();
    result.unchanged_after_typing = (await text(modified)) === result.modified_text;

    step(`select lines ${params.mistake_from}-${params.mistake_to} of the student's version and add a mistake`);
    await modified.click();
    await goToLine(page, params.mistake_from);
    for (let line = params.mistake_from; line < params.mistake_to; line++) {
        await page.keyboard.press('Shift+ArrowDown');
    }
    await page.keyboard.press('Shift+End');
    await runCommand(page, 'Colearner: Add a Mistake Here');
    const input = page.locator(`${QUICK_INPUT} input`);
    await input.waitFor();
    result.mistake_prompt = ((await page.locator(`${QUICK_INPUT} .quick-input-message, ${QUICK_INPUT} .quick-input-description`).allTextContents()) || []).join(' ');
    await input.fill(params.mistake);
    await page.keyboard.press('Enter');
    const collected = page.locator('.notification-list-item-message').filter({ hasText: 'mistake collected' }).first();
    await collected.waitFor({ timeout: 30_000 });
    result.collected = ((await collected.textContent()) ?? '').trim();
    await shot('coach-review-04-mistake-collected');

    step('Send Review Feedback…: revise, a next step, the default confidence change');
    await modified.click();
    await runCommand(page, 'Colearner: Send Review Feedback');
    await input.waitFor();
    result.grades = (await page.locator(`${QUICK_INPUT} .monaco-list-row`).allTextContents()).map((t) => t.trim());
    await input.fill('revise');
    await page.keyboard.press('Enter');
    await page.waitForTimeout(300);
    await input.waitFor();
    await input.fill(params.next_step);
    await page.keyboard.press('Enter');
    await page.waitForTimeout(300);
    await input.waitFor();
    await page.keyboard.press('Enter'); // -0.1, offered for a revise
    const sent = page.locator('.notification-list-item-message').filter({ hasText: 'feedback sent' }).first();
    await sent.waitFor({ timeout: 30_000 });
    result.sent = ((await sent.textContent()) ?? '').trim();
    result.status_bar_after = await waitForStatus(page, /nothing to review/);
    await shot('coach-review-05-feedback-sent');
});
