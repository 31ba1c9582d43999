package chaosdaemon

import (
	"bufio"
	"bytes"
	"encoding/hex"
	"os"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/dynamicpb"
)

var (
	wireRequest = ApplyHTTPChaosRequest{
		Rules:       `[{"target":"Request","selector":{"port":8080,"path":"/api/*"},"actions":{"abort":true}}]`,
		ProxyPorts:  []uint32{8080, 9090},
		ContainerID: "kwok://0b6e1c1e-uid/app",
		Instance:    4242,
		StartTime:   1767225600000,
		EnterNS:     true,
		InstanceUID: "uid-1",
		TLS:         `{"cert_file":{"type":"Contents","value":"YQ=="}}`,
	}
	wireResponse = ApplyHTTPChaosResponse{
		Instance:    4242,
		StartTime:   1767225600000,
		StatusCode:  200,
		Error:       "bad rule",
		InstanceUID: "uid-1",
	}
)

// golden reads testdata/wire.txt: the messages as Chaos Mesh encodes them.
func golden(t *testing.T) map[string][]byte {
	t.Helper()
	f, err := os.Open("testdata/wire.txt")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	out := map[string][]byte{}
	sc := bufio.NewScanner(f)
	sc.Buffer(nil, 1<<20)
	for sc.Scan() {
		name, value, ok := strings.Cut(sc.Text(), " ")
		if !ok || strings.HasPrefix(name, "#") {
			continue
		}
		b, err := hex.DecodeString(value)
		if err != nil {
			t.Fatalf("testdata/wire.txt: %s: %v", name, err)
		}
		out[name] = b
	}
	return out
}

func TestWire(t *testing.T) {
	g := golden(t)
	marshal := proto.MarshalOptions{Deterministic: true}

	t.Run("a request encoded by Chaos Mesh decodes to its fields", func(t *testing.T) {
		m := dynamicpb.NewMessage(wire.request)
		if err := proto.Unmarshal(g["request"], m); err != nil {
			t.Fatal(err)
		}
		if diff := cmp.Diff(wireRequest, requestFromWire(m)); diff != "" {
			t.Errorf("decoded request (-want +got):\n%s", diff)
		}
	})
	t.Run("a request is encoded as Chaos Mesh encodes it", func(t *testing.T) {
		b, err := marshal.Marshal(requestToWire(wireRequest))
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(b, g["request"]) {
			t.Errorf("encoded request\n%x\nwant\n%x", b, g["request"])
		}
	})
	t.Run("a response is encoded as Chaos Mesh encodes it", func(t *testing.T) {
		b, err := marshal.Marshal(responseToWire(wireResponse))
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(b, g["response"]) {
			t.Errorf("encoded response\n%x\nwant\n%x", b, g["response"])
		}
		m := dynamicpb.NewMessage(wire.response)
		if err := proto.Unmarshal(g["response"], m); err != nil {
			t.Fatal(err)
		}
		if diff := cmp.Diff(wireResponse, responseFromWire(m)); diff != "" {
			t.Errorf("decoded response (-want +got):\n%s", diff)
		}
	})
	t.Run("zero values are left out, as proto3 does", func(t *testing.T) {
		b, err := marshal.Marshal(responseToWire(ApplyHTTPChaosResponse{StatusCode: 200}))
		if err != nil {
			t.Fatal(err)
		}
		if want := []byte{0x18, 0xc8, 0x01}; !bytes.Equal(b, want) {
			t.Errorf("encoded %x, want %x", b, want)
		}
	})
	t.Run("unpacked proxy ports decode too", func(t *testing.T) {
		// Field 2, varint, twice: the encoding of a proto2 sender.
		m := dynamicpb.NewMessage(wire.request)
		if err := proto.Unmarshal([]byte{0x10, 0x50, 0x10, 0x51}, m); err != nil {
			t.Fatal(err)
		}
		if diff := cmp.Diff([]uint32{80, 81}, requestFromWire(m).ProxyPorts); diff != "" {
			t.Errorf("ports (-want +got):\n%s", diff)
		}
	})
}
