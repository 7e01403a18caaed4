-- Headless Neovim (0.7) as a real LSP client of `colearner serve` (see /recipes/neovim.md in the
-- design notes, and the README's Neovim setup): wait for the assignment's diagnostic, read the
-- hover's floating window, list the code actions on its line with the README's <leader>a and
-- choose "Acknowledge", and write what happened as JSON for the test to check.
--
-- Inputs (environment): COLEARNER_NVIM_ROOT, COLEARNER_NVIM_FILE, COLEARNER_NVIM_OUT; `colearner`
-- on PATH, and the README's setup as init.lua.

local steps = dofile(debug.getinfo(1, "S").source:sub(2):match("(.*/)") .. "steps.lua")

local function main()
  local root, rel, out = steps.inputs()
  local result = {}

  local bufnr, client_id = steps.open(root .. "/" .. rel)
  assert(vim.lsp.get_client_by_id(client_id).config.root_dir == root, "the server is not rooted at the repository")

  steps.wait_for(30000, function() return #vim.diagnostic.get(bufnr) > 0 end, "no diagnostics arrived")
  local diagnostic = vim.diagnostic.get(bufnr)[1]
  result.diagnostic = {
    lnum = diagnostic.lnum,
    end_lnum = diagnostic.end_lnum,
    severity = diagnostic.severity,
    source = diagnostic.source,
    code = diagnostic.code,
    message = diagnostic.message,
  }

  local line = diagnostic.lnum

  -- The thread text, as the README's setup shows it: K (vim.lsp.buf.hover) on the exercise's line
  -- opens a floating window with the exercise's Markdown.
  vim.api.nvim_win_set_cursor(0, { line + 2, 0 })
  vim.cmd("normal K")
  local float
  vim.wait(10000, function()
    for _, win in ipairs(vim.api.nvim_list_wins()) do
      if vim.api.nvim_win_get_config(win).relative ~= "" then
        float = win
        return true
      end
    end
    return false
  end, 50)
  assert(float, "K (hover) opened no floating window")
  result.hover = vim.api.nvim_buf_get_lines(vim.api.nvim_win_get_buf(float), 0, -1, false)
  vim.api.nvim_win_close(float, true)

  -- The actions, as the README's setup lists them; Acknowledge chosen there.
  local listed = steps.choose_action(line, "Acknowledge")
  result.actions = listed.titles
  result.kinds = listed.kinds
  result.acknowledged = listed.chosen
  assert(result.acknowledged ~= vim.NIL, "no Acknowledge action among: " .. table.concat(listed.titles, ", "))

  -- The server publishes the new state: the exercise turns into a hint.
  result.hint = vim.wait(10000, function()
    local now = vim.diagnostic.get(bufnr)
    return #now > 0 and now[1].severity == vim.diagnostic.severity.HINT
  end, 50)

  steps.finish(client_id, out, result)
end

steps.run(main)
