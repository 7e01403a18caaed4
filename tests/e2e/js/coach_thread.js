// Issue 18, the coach's side: the answer counts in the status bar and badge,
// the dashboard lists it first with a link, the link opens the thread at the
// anchor with the student's answer, and a reply from the thread chosen as
// "Pass" resolves it.
// Params: url, chromium, artifacts, exercise_id, topic, answer, verdict.

'use strict';

const { runDriver, openWorkbench, waitForStatus, runCommand } = require('./workbench');
const { openFromTree, waitForThread, readThread, reply, waitForComment, colearnerBadge, waitForBadge, commentsPanelRows } = require('./thread_steps');

runDriver(async ({ page, params, result, step, shot }) => {
    step('open workbench');
    await openWorkbench(page, params.url);

    step('status bar and badge count the answer to review');
    result.status_bar = await waitForStatus(page, /1 to review/);
    result.badge = await waitForBadge(page, '1');
    await shot('coach-01-status-and-badge');

    step('Colearner: Open Dashboard');
    await runCommand(page, 'Colearner: Open Dashboard');
    const selector = `#review a.thread[data-exercise="${params.exercise_id}"]`;
    const deadline = Date.now() + 60_000;
    let link = null;
    let frame = null;
    while (!link && Date.now() < deadline) {
        for (const f of page.frames()) {
            const candidate = f.locator(selector);
            if ((await candidate.count().catch(() => 0)) > 0) {
                link = candidate.first();
                frame = f;
                break;
            }
        }
        if (!link) await page.waitForTimeout(500);
    }
    if (!link) {
        const texts = await Promise.all(page.frames().map((f) => f.locator('body').innerText().catch(() => '')));
        throw new Error(`no review link in any frame; frame texts: ${JSON.stringify(texts.filter(Boolean))}`);
    }
    result.headings = (await frame.locator('h2').allTextContents()).map((t) => t.trim());
    result.review = ((await frame.locator('#review').first().innerText()) ?? '').trim();
    result.link_href = await link.getAttribute('href');
    await shot('coach-02-dashboard');

    step('the dashboard link opens the thread');
    await link.click();
    const thread = await waitForThread(page, params.answer);
    await page.locator('.tabs-container .tab.active').filter({ hasText: 'inventory.py' }).waitFor({ timeout: 30_000 });
    result.thread = await readThread(thread);
    await shot('coach-03-thread-from-link');

    step('reply from the thread, as a pass');
    await reply(page, thread, params.verdict);
    const input = page.locator('.quick-input-widget input');
    await input.waitFor({ timeout: 15_000 });
    result.choices = (await page.locator('.quick-input-widget .monaco-list-row').allTextContents()).map((t) => t.trim());
    await shot('coach-04-pass-or-revise');
    await input.fill('Pass');
    await page.keyboard.press('Enter');
    result.status_bar_after = await waitForStatus(page, /nothing to review/);
    result.badge_after = await colearnerBadge(page);
    await shot('coach-05-passed');

    step('the resolved thread, opened again from the tree');
    // VS Code folds a thread away when it turns resolved.
    result.tree_rows = await openFromTree(page, runCommand, 'passed (1)', params.topic);
    result.thread_after = await waitForComment(page, params.answer, params.verdict);
    await shot('coach-06-resolved-thread');

    step('the Comments panel');
    await runCommand(page, 'Comments: Focus on Comments View').catch(async () => {
        await page.keyboard.press('Escape');
        await runCommand(page, 'View: Focus on Comments View');
    });
    await page.waitForTimeout(1500);
    result.comments_panel = await commentsPanelRows(page);
    await shot('coach-07-comments-panel');
});
