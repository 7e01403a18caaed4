-- Headless Neovim (0.7) as the coach's LSP client, set up as the README says: wait for the answer
-- waiting for review, list the code actions on the exercise's line with <leader>a, choose "Show the
-- student's change", and write what the two buffers the README's handler opened hold as JSON.
--
-- Inputs (environment): COLEARNER_NVIM_ROOT, COLEARNER_NVIM_FILE, COLEARNER_NVIM_OUT; `colearner`
-- on PATH, and the README's setup as init.lua.

local steps = dofile(debug.getinfo(1, "S").source:sub(2):match("(.*/)") .. "steps.lua")

local function main()
  local root, rel, out = steps.inputs()
  local result = {}

  local bufnr, client_id = steps.open(root .. "/" .. rel)

  local review
  vim.wait(30000, function()
    for _, d in ipairs(vim.diagnostic.get(bufnr)) do
      if d.code == "review" then
        review = d
        return true
      end
    end
    return false
  end, 50)
  assert(review, "no answer waiting for review arrived")

  result.actions = steps.choose_action(review.lnum, "Show the student's change: " .. rel).titles

  -- The README's handler opens a new tab with the two versions in diff mode.
  local opened = vim.wait(20000, function()
    return vim.fn.tabpagenr("$") == 2 and #vim.api.nvim_tabpage_list_wins(0) == 2
  end, 50)
  assert(opened, "no diff tab opened; actions: " .. table.concat(result.actions, " | "))
  result.buffers = {}
  for _, win in ipairs(vim.api.nvim_tabpage_list_wins(0)) do
    local buf = vim.api.nvim_win_get_buf(win)
    table.insert(result.buffers, {
      name = vim.api.nvim_buf_get_name(buf),
      lines = vim.api.nvim_buf_get_lines(buf, 0, -1, false),
      eol = vim.api.nvim_buf_get_option(buf, "eol"),
      readonly = vim.api.nvim_buf_get_option(buf, "readonly"),
      diff = vim.api.nvim_win_get_option(win, "diff"),
    })
  end

  steps.finish(client_id, out, result)
end

steps.run(main)
