package blueprint

import (
	"strings"
	"testing"

	"github.com/cloudify-chaos/chaosops/plugin/internal/badyaml"
)

func TestLoadIsBoundedAndNeverEchoesAFile(t *testing.T) {
	const canary = "s3cr3t-CANARY"
	raw := "tosca_definitions_version: cloudify_dsl_1_4\n"
	tests := []struct {
		name  string
		files map[string]string
		want  []string // prefixes of the error lines, in order
	}{
		{
			name:  "an alias bomb in an input's default is refused at the alias",
			files: map[string]string{"blueprint.yaml": raw + "inputs:\n  x:\n    default:\n" + badyaml.AliasBomb("      ")},
			want:  []string{`blueprint.yaml:10: alias *e: the aliases up to here expand to more than the limit of 100000 YAML nodes (an alias bomb?)`},
		},
		{
			name: "an alias bomb in an imported file's properties names that file",
			files: map[string]string{
				"blueprint.yaml": raw + "imports: [types.yaml]\n",
				"types.yaml":     "node_types:\n  t:\n    properties:\n      p:\n        default:\n" + badyaml.AliasBomb("          "),
			},
			want: []string{`types.yaml:11: alias *e: the aliases up to here expand to more than the limit of 100000 YAML nodes`},
		},
		{
			name: "a non-YAML import is named, its content never shown",
			files: map[string]string{
				"blueprint.yaml": raw + "imports: [secrets.env]\n",
				"secrets.env":    "TOKEN=" + canary + "\nPASSWORD=" + canary + "\n",
			},
			want: []string{`secrets.env:1: the file is not a YAML mapping (it reads as a string); a blueprint file is a mapping starting with tosca_definitions_version`},
		},
		{
			name: "an import with a syntax error gets the line, not the line's text",
			files: map[string]string{
				"blueprint.yaml": raw + "imports: [secrets.txt]\n",
				"secrets.txt":    "user: admin\npassword: " + canary + ": x\n",
			},
			want: []string{`secrets.txt:2: YAML syntax: mapping values are not allowed in this context`},
		},
		{
			name:  "an import through .. leaves the folder and is refused",
			files: map[string]string{"blueprint.yaml": raw + "imports: [../outside.yaml]\n"},
			want:  []string{`blueprint.yaml:2: imports: "../outside.yaml": the import leaves the blueprint folder; copy the file into the blueprint folder and import it by relative path`},
		},
		{
			name:  "an absolute import is refused",
			files: map[string]string{"blueprint.yaml": raw + "imports: [/etc/passwd]\n"},
			want:  []string{`blueprint.yaml:2: imports: "/etc/passwd": an absolute path leaves the blueprint folder`},
		},
		{
			name: "an import of a subfolder reaching back up stays inside",
			files: map[string]string{
				"blueprint.yaml": raw + "imports: [sub/a.yaml]\n",
				"sub/a.yaml":     "imports: [../b.yaml]\n",
				"b.yaml":         "inputs: {x: {default: *nope}}\n",
			},
			want: []string{`b.yaml: YAML syntax: unknown anchor 'nope' referenced`},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			inDir(t, tt.files)
			_, err := Load("blueprint.yaml")
			checkErrorLines(t, err, tt.want)
			if err != nil && strings.Contains(err.Error(), "s3cr3t") {
				t.Errorf("the error quotes a file: %v", err)
			}
		})
	}
}
