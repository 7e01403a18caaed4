// Scenario 2 (coach): "Colearner: Open Dashboard" shows the student's row.
// Webviews are nested iframes in code-server, so every frame is searched.
// Params: url, chromium, artifacts, student.

'use strict';

const { runDriver, openWorkbench, waitForStatus, runCommand } = require('./workbench');

runDriver(async ({ page, params, result, step, shot }) => {
    step('open workbench');
    await openWorkbench(page, params.url);

    step('wait for the server status');
    result.status_bar = await waitForStatus(page, /to review/);

    step('Colearner: Open Dashboard');
    await runCommand(page, 'Colearner: Open Dashboard');

    step(`find ${params.student}'s row in the webview`);
    const selector = `tr[data-student="${params.student}"]`;
    const deadline = Date.now() + 60_000;
    let row = null;
    while (!row && Date.now() < deadline) {
        for (const frame of page.frames()) {
            const candidate = frame.locator(selector);
            if ((await candidate.count().catch(() => 0)) > 0) {
                row = candidate.first();
                result.frame_url = frame.url().split('?')[0];
                break;
            }
        }
        if (!row) {
            await page.waitForTimeout(500);
        }
    }
    if (!row) {
        const texts = await Promise.all(page.frames().map((f) => f.locator('body').innerText().catch(() => '')));
        throw new Error(`no row for ${params.student} in any frame; frame texts: ${JSON.stringify(texts.filter(Boolean))}`);
    }
    const cell = async (name) => ((await row.locator(`td.${name}`).textContent()) ?? '').trim();
    result.row = {
        student: await cell('student'),
        stage: await cell('stage'),
        completion: await cell('completion'),
        blockers: await cell('blockers'),
    };
    result.headers = (await row.locator('xpath=ancestor::table//th').allTextContents()).map((t) => t.trim());
    await shot('dashboard');
});
