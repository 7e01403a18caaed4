// Issue 18: a mistake the coach filed on other lines is a thread of its own at
// those lines; a reply from it answers the exercise (the exercise's thread
// gets the answer, and the mistake's thread goes, its revise answered).
// Params: url, chromium, artifacts, path, topic, here, elsewhere, answer.

'use strict';

const { runDriver, openWorkbench, waitForStatus, openFile, goToLine } = require('./workbench');
const { readThread, reply, waitForComment } = require('./thread_steps');

runDriver(async ({ page, params, result, step, shot }) => {
    step('open workbench');
    await openWorkbench(page, params.url);
    result.status_bar = await waitForStatus(page, /1 to answer/);

    step(`both threads in ${params.path}`);
    await openFile(page, params.path);
    await goToLine(page, 18);
    const mistake = page.locator('.review-widget').filter({ has: page.locator('.head', { hasText: 'Mistake in' }) }).first();
    await mistake.waitFor({ timeout: 60_000 });
    const exercise = page.locator('.review-widget').filter({ has: page.locator('.head', { hasText: 'to revise' }) }).first();
    await exercise.waitFor({ timeout: 30_000 });
    result.mistake_thread = await readThread(mistake);
    result.exercise_thread = await readThread(exercise);
    result.threads = await page.locator('.review-widget').count();
    result.mistake_after_line = await lineAbove(page, mistake);
    await shot('student-mistake-01-two-threads');

    step('reply from the mistake thread');
    await reply(page, mistake, params.answer);
    result.exercise_after = await waitForComment(page, 'total_value ignores discounts', params.answer);
    await page.locator('.review-widget').filter({ has: page.locator('.head', { hasText: 'Mistake in' }) }).first()
        .waitFor({ state: 'detached', timeout: 30_000 });
    result.threads_after = await page.locator('.review-widget').count();
    result.status_bar_after = await waitForStatus(page, /nothing to answer/);
    await shot('student-mistake-02-answered-into-the-exercise');
});

/** The editor line number shown just above a thread widget. */
async function lineAbove(page, widget) {
    const top = (await widget.boundingBox())?.y ?? 0;
    return page.evaluate((y) => {
        let best = null;
        for (const el of document.querySelectorAll('.editor-instance .margin-view-overlays .line-numbers')) {
            const r = el.getBoundingClientRect();
            if (r.bottom <= y + 2 && (!best || r.bottom > best.bottom)) best = { bottom: r.bottom, n: Number(el.textContent) };
        }
        return best ? best.n : null;
    }, top);
}
