-- Headless Neovim (0.7) as the coach's LSP client, set up as the README says: wait for the answer
-- waiting for review, list the code actions on the exercise's line with <leader>a, choose "Show the
-- student's change", and write what the two buffers the README's handler opened hold as JSON.
--
-- Inputs (environment): COLEARNER_NVIM_ROOT, COLEARNER_NVIM_FILE, COLEARNER_NVIM_OUT; `colearner`
-- on PATH, and the README's setup as init.lua.

local function main()
  local root = assert(vim.env.COLEARNER_NVIM_ROOT, "COLEARNER_NVIM_ROOT is not set")
  local rel = assert(vim.env.COLEARNER_NVIM_FILE, "COLEARNER_NVIM_FILE is not set")
  local out = assert(vim.env.COLEARNER_NVIM_OUT, "COLEARNER_NVIM_OUT is not set")
  local result = {}

  vim.cmd("edit " .. vim.fn.fnameescape(root .. "/" .. rel))
  local bufnr = vim.api.nvim_get_current_buf()
  local client_id
  vim.wait(10000, function()
    client_id = next(vim.lsp.buf_get_clients(bufnr))
    return client_id ~= nil
  end, 50)
  assert(client_id, "the README's setup attached no language server")

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

  local wanted = "Show the student's change: " .. rel
  vim.ui.select = function(items, opts, on_choice)
    result.actions = {}
    local choice
    for _, item in ipairs(items) do
      local title = opts.format_item(item)
      table.insert(result.actions, title)
      if not choice and vim.startswith(title, wanted) then
        choice = item
      end
    end
    on_choice(choice)
  end
  vim.api.nvim_win_set_cursor(0, { review.lnum + 1, 0 })
  vim.cmd("normal \\a")
  assert(vim.wait(10000, function() return result.actions ~= nil end, 50), "<leader>a listed no code actions")

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

  local client = vim.lsp.get_client_by_id(client_id)
  client.stop()
  vim.wait(5000, function() return client.is_stopped() end, 50)
  local handle = assert(io.open(out, "w"))
  handle:write(vim.fn.json_encode(result))
  handle:close()
end

local ok, err = pcall(main)
if ok then
  vim.cmd("qa!")
else
  io.stderr:write("nvim test failed: " .. tostring(err) .. "\n")
  vim.cmd("cq 1")
end
