// Lua rule sections (`--Lua Rules`) are not supported: this implementation has one rule language.
// The refusal says what to write instead, translating the first `name=if_then(...)` rule it finds
// (and `Rules.disable(...)`) into the SafeKit form, so the fix is a copy-paste.

export type LuaRefusal = { readonly offset: number; readonly message: string };

const IF_THEN = /(\w+)\s*=\s*if_then\(\s*"([^"]+)"\s*,\s*"(\w+)"\s*,\s*Action\.(\w+)\s*\)/;
const DISABLE = /Rules\.disable\(\s*"([^"]+)"\s*\)/;

export function luaRefusal(text: string): LuaRefusal {
  const marker = text.search(/\S/);
  const head = "rules written in Lua (--Lua Rules) are not supported; write them in the SafeKit rule " +
    "language in a CDATA section without '--Lua Rules'";
  const rule = IF_THEN.exec(text);
  if (rule !== null) {
    const [, name, resource, state, action] = rule;
    return {
      offset: marker,
      message: `${head}: instead of '${
        rule[0]
      }' write '${name}: if (${resource} == ${state}) then ${action}();'`,
    };
  }
  const disable = DISABLE.exec(text);
  if (disable !== null) {
    return {
      offset: marker,
      message:
        `${head}: instead of '${disable[0]}' use <failover extends="no"> and write the rules to keep ` +
        `(the default rules without '${disable[1]}'), e.g. 'ip_failure: if (ip.? == down) then stopstart();'`,
    };
  }
  return {
    offset: marker < 0 ? 0 : marker,
    message: `${head}, e.g. 'custom_failure: if (custom.AppChecker == down) then stopstart();'`,
  };
}
