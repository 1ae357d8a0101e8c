import assert from "node:assert/strict";
import { test } from "node:test";
import { HclExpression, parseHcl, parseVarFile } from "../../components/recipe/hcl";
import { declaredVariables, loadSite, variableDefaults } from "../../components/recipe/site";

test("reads the literal values a variables file holds", () => {
    const v = parseVarFile(
        [
            '# comment',
            'name = "CentOS" // trailing',
            "major = 7",
            "ok = true",
            'cmd = ["<tab> ks={{ .HTTPIP }}<enter>", "x\\"y"]',
            "repos = {",
            '  updates = "http://a/b"',
            '  "Name-2" = "c"',
            "}",
            'literal = "$${not_interpolated}"',
        ].join("\n"),
    );
    assert.deepEqual(v, {
        name: "CentOS",
        major: 7,
        ok: true,
        cmd: ["<tab> ks={{ .HTTPIP }}<enter>", 'x"y'],
        repos: { updates: "http://a/b", "Name-2": "c" },
        literal: "${not_interpolated}",
    });
});

test("refuses what is not a literal, naming the file and line", () => {
    assert.throws(() => parseVarFile('a = "x"\nb = "${var.x}"', "os.pkrvars.hcl"), /os.pkrvars.hcl:2: interpolation/);
    assert.throws(() => parseVarFile("a = var.x", "f"), /f: a = var . x is not a literal value/);
    assert.throws(() => parseVarFile('a = "x"\na = "y"', "f"), /f:2: 'a' is set twice/);
    assert.throws(() => parseVarFile('a = "x', "f"), /unterminated string/);
    assert.throws(() => parseVarFile('block "x" {\n}', "f"), /only 'name = value'/);
});

test("reads blocks and keeps expressions as text", () => {
    const body = parseHcl('variable "v" {\n  type = list(string)\n  default = []\n  validation {\n    condition = length(var.v) > 0\n  }\n}');
    const v = body.blocks[0];
    assert.equal(v.labels[0], "v");
    assert.deepEqual(v.body.attributes.default, []);
    assert.ok(v.body.attributes.type instanceof HclExpression);
    assert.ok(v.body.blocks[0].body.attributes.condition instanceof HclExpression);
});

test("site variables: Packer's defaults, then the site file, then overrides; unknown names refused", () => {
    const defaults = variableDefaults();
    assert.equal(defaults.locale, "en_US.UTF-8");
    assert.ok(declaredVariables().includes("vm_name"));
    assert.equal(loadSite({ siteFile: "/nonexistent", overrides: { timezone: "Europe/London" } }).timezone, "Europe/London");
    assert.throws(() => loadSite({ siteFile: "/nonexistent", overrides: { timezon: "UTC" } }), /site variable: unknown key: 'timezon' is not valid; valid choices: .*timezone/);
    // Packer declares more variables, but only the site variables are a site's to set.
    for (const owned of ["iso_checksum", "ssh_private_key_file", "qemuargs", "output_dir", "build_name"]) {
        assert.ok(declaredVariables().includes(owned), owned);
        assert.throws(() => loadSite({ siteFile: "/nonexistent", overrides: { [owned]: "x" } }), new RegExp(`unknown key: '${owned}'`));
    }
});
