// Issue 18, the student's side of one round in the exercise's comment thread.
// phase "answer": the thread shows at the anchor, expanded (the student's turn);
// the badge and the status bar count it; a reply from the thread is the answer.
// phase "passed": after the coach's pass, the thread (opened from the tree) is
// resolved, holds the coach's reply, and takes no more replies.
// Params: url, chromium, artifacts, path, line, topic, answer, verdict, phase.

'use strict';

const { runDriver, openWorkbench, waitForStatus, runCommand, openFile, goToLine } = require('./workbench');
const { openFromTree, waitForThread, readThread, reply, waitForComment, colearnerBadge, waitForBadge } = require('./thread_steps');

runDriver(async ({ page, params, result, step, shot }) => {
    step('open workbench');
    await openWorkbench(page, params.url);

    if (params.phase === 'answer') {
        step('status bar and badge count the exercise to answer');
        result.status_bar = await waitForStatus(page, /to answer/);
        result.badge = await waitForBadge(page, '1');
        await shot('student-01-status-and-badge');

        step(`the thread at ${params.path}:${params.line}`);
        await openFile(page, params.path);
        await goToLine(page, params.line);
        const thread = await waitForThread(page, params.topic);
        result.thread = await readThread(thread);
        result.thread_top_line = await threadLine(page);
        await shot('student-02-thread-at-anchor');

        step('reply from the thread: the answer');
        await reply(page, thread, params.answer);
        result.thread_after = await waitForComment(page, params.topic, params.answer);
        result.status_bar_after = await waitForStatus(page, /nothing to answer/);
        result.badge_after = await colearnerBadge(page);
        await shot('student-03-answered');
        return;
    }

    step('after the pass: nothing to answer');
    result.status_bar = await waitForStatus(page, /nothing to answer/);
    result.badge = await colearnerBadge(page);

    step('open the passed exercise from the tree');
    result.tree_rows = await openFromTree(page, runCommand, 'passed (1)', params.topic);
    const thread = await waitForThread(page, params.verdict);
    result.thread = await readThread(thread);
    await shot('student-04-resolved');
});

/** The 1-based line the first comment-thread zone sits under (the line number before it). */
async function threadLine(page) {
    return page.evaluate(() => {
        const zone = document.querySelector('.review-widget');
        if (!zone) return null;
        const top = zone.getBoundingClientRect().top;
        let best = null;
        for (const el of document.querySelectorAll('.editor-instance .margin-view-overlays .line-numbers')) {
            const r = el.getBoundingClientRect();
            if (r.bottom <= top + 2 && (!best || r.bottom > best.bottom)) best = { bottom: r.bottom, n: Number(el.textContent) };
        }
        return best ? best.n : null;
    });
}
