package blueprint

import (
	"testing"

	"github.com/google/go-cmp/cmp"
)

func TestOrder(t *testing.T) {
	t.Run("install levels put independent nodes together, sorted by name", func(t *testing.T) {
		bp := loadFull(t)
		got, err := bp.Order()
		if err != nil {
			t.Fatal(err)
		}
		want := [][]string{{"cluster", "probe"}, {"namespace"}, {"app", "db"}, {"http_chaos"}}
		if diff := cmp.Diff(want, got); diff != "" {
			t.Error(diff)
		}
	})

	t.Run("uninstall levels are the install levels reversed", func(t *testing.T) {
		bp := loadFull(t)
		got, err := bp.ReverseOrder()
		if err != nil {
			t.Fatal(err)
		}
		want := [][]string{{"http_chaos"}, {"app", "db"}, {"namespace"}, {"cluster", "probe"}}
		if diff := cmp.Diff(want, got); diff != "" {
			t.Error(diff)
		}
	})

	// Blueprints built by hand (not through Load) are ordered the same way.
	node := func(name string, targets ...string) *NodeTemplate {
		n := &NodeTemplate{Name: name, Pos: Pos{File: "b.yaml", Line: 1}}
		for _, tgt := range targets {
			n.Relationships = append(n.Relationships, &Relationship{Type: RelDependsOn, Target: tgt})
		}
		return n
	}
	build := func(nodes ...*NodeTemplate) *Blueprint {
		bp := &Blueprint{Nodes: map[string]*NodeTemplate{}}
		for _, n := range nodes {
			bp.Nodes[n.Name] = n
		}
		return bp
	}

	t.Run("a node waits for its deepest dependency", func(t *testing.T) {
		got, err := build(node("top", "mid", "base"), node("mid", "base"), node("base"), node("solo")).Order()
		if err != nil {
			t.Fatal(err)
		}
		if diff := cmp.Diff([][]string{{"base", "solo"}, {"mid"}, {"top"}}, got); diff != "" {
			t.Error(diff)
		}
	})

	t.Run("an empty blueprint has no levels", func(t *testing.T) {
		got, err := build().Order()
		if err != nil || got != nil {
			t.Fatalf("got %v, %v", got, err)
		}
	})

	t.Run("a cycle is named from its first node", func(t *testing.T) {
		_, err := build(node("a"), node("x", "a", "y"), node("y", "z"), node("z", "x")).Order()
		want := "b.yaml:1: node_templates.x.relationships: the relationships form a cycle: x -> y -> z -> x"
		if err == nil || err.Error() != want {
			t.Fatalf("got %v, want %s", err, want)
		}
		if _, err := build(node("x", "y"), node("y", "x")).ReverseOrder(); err == nil {
			t.Error("ReverseOrder accepted a cycle")
		}
	})
}
