package chaosdaemon

import (
	"context"
	"fmt"

	"google.golang.org/grpc"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/reflect/protodesc"
	"google.golang.org/protobuf/reflect/protoreflect"
	"google.golang.org/protobuf/types/descriptorpb"
	"google.golang.org/protobuf/types/dynamicpb"
)

// ServiceName is chaos-daemon's gRPC service: service ChaosDaemon of
// package pb in Chaos Mesh's pkg/chaosdaemon/pb/chaosdaemon.proto.
const ServiceName = "pb.ChaosDaemon"

// ApplyHTTPChaosRequest is chaos-daemon's ApplyHttpChaosRequest: the
// complete HTTP fault configuration of one container.
type ApplyHTTPChaosRequest struct {
	// Rules is the JSON list of the container's rules: PodHttpChaos
	// spec.rules without their source and port fields.
	Rules string
	// ProxyPorts are the container ports the proxy intercepts.
	ProxyPorts []uint32
	// ContainerID is the target's status.containerStatuses[].containerID.
	ContainerID string
	// Instance identifies the proxy process of an earlier answer
	// (PodHttpChaos status.pid); 0 asks for a new one.
	Instance int64
	// StartTime is that process's start time (status.startTime).
	StartTime int64
	// EnterNS asks for the proxy to run in the container's namespaces.
	EnterNS bool
	// InstanceUID identifies the proxy process by chaos-daemon's own id.
	InstanceUID string
	// TLS is the JSON of the TLS material for HTTPS traffic ("": none).
	TLS string
}

// ApplyHTTPChaosResponse is chaos-daemon's ApplyHttpChaosResponse.
type ApplyHTTPChaosResponse struct {
	// Instance identifies the proxy process that holds the rules now.
	Instance int64
	// StartTime is that process's start time.
	StartTime int64
	// StatusCode is the proxy's answer to the configuration: 200 applied;
	// anything else is a failure described by Error.
	StatusCode int32
	// Error says why the configuration was not applied.
	Error string
	// InstanceUID is chaos-daemon's id of the proxy process.
	InstanceUID string
}

// wireDescriptors are the two messages of ApplyHttpChaos, described by hand
// (field numbers and types as in chaosdaemon.proto) so that this module
// needs no dependency on Chaos Mesh's: see the package documentation.
type wireDescriptors struct {
	request, response protoreflect.MessageDescriptor
}

var wire = mustWire()

func mustWire() wireDescriptors {
	field := func(name string, number int32, typ descriptorpb.FieldDescriptorProto_Type) *descriptorpb.FieldDescriptorProto {
		return &descriptorpb.FieldDescriptorProto{
			Name:     proto.String(name),
			Number:   proto.Int32(number),
			Label:    descriptorpb.FieldDescriptorProto_LABEL_OPTIONAL.Enum(),
			Type:     typ.Enum(),
			JsonName: proto.String(name),
		}
	}
	repeated := func(f *descriptorpb.FieldDescriptorProto) *descriptorpb.FieldDescriptorProto {
		f.Label = descriptorpb.FieldDescriptorProto_LABEL_REPEATED.Enum()
		return f
	}
	const (
		str   = descriptorpb.FieldDescriptorProto_TYPE_STRING
		u32   = descriptorpb.FieldDescriptorProto_TYPE_UINT32
		i64   = descriptorpb.FieldDescriptorProto_TYPE_INT64
		i32   = descriptorpb.FieldDescriptorProto_TYPE_INT32
		boolT = descriptorpb.FieldDescriptorProto_TYPE_BOOL
	)
	file := &descriptorpb.FileDescriptorProto{
		Name:    proto.String("chaosops/daemonstandin/chaosdaemon.proto"),
		Package: proto.String("pb"),
		Syntax:  proto.String("proto3"),
		MessageType: []*descriptorpb.DescriptorProto{{
			Name: proto.String("ApplyHttpChaosRequest"),
			Field: []*descriptorpb.FieldDescriptorProto{
				field("rules", 1, str),
				repeated(field("proxy_ports", 2, u32)),
				field("container_id", 3, str),
				field("instance", 4, i64),
				field("startTime", 5, i64),
				field("enterNS", 6, boolT),
				field("instance_uid", 7, str),
				field("tls", 8, str),
			},
		}, {
			Name: proto.String("ApplyHttpChaosResponse"),
			Field: []*descriptorpb.FieldDescriptorProto{
				field("instance", 1, i64),
				field("startTime", 2, i64),
				field("statusCode", 3, i32),
				field("error", 4, str),
				field("instance_uid", 5, str),
			},
		}},
	}
	// Not registered globally: a process that also links Chaos Mesh's
	// generated package keeps its own descriptors.
	fd, err := protodesc.NewFile(file, nil)
	if err != nil {
		panic(fmt.Sprintf("chaosdaemon: wire descriptors: %v", err))
	}
	msgs := fd.Messages()
	return wireDescriptors{request: msgs.ByName("ApplyHttpChaosRequest"), response: msgs.ByName("ApplyHttpChaosResponse")}
}

// fields gets and sets the fields of one dynamic message by name.
type fields struct{ m *dynamicpb.Message }

func (f fields) fd(name string) protoreflect.FieldDescriptor {
	return f.m.Descriptor().Fields().ByName(protoreflect.Name(name))
}
func (f fields) get(name string) protoreflect.Value { return f.m.Get(f.fd(name)) }
func (f fields) set(name string, v protoreflect.Value) {
	if v.Equal(f.fd(name).Default()) {
		return // proto3: zero values are not sent
	}
	f.m.Set(f.fd(name), v)
}

func requestFromWire(m *dynamicpb.Message) ApplyHTTPChaosRequest {
	f := fields{m}
	ports := f.get("proxy_ports").List()
	r := ApplyHTTPChaosRequest{
		Rules:       f.get("rules").String(),
		ContainerID: f.get("container_id").String(),
		Instance:    f.get("instance").Int(),
		StartTime:   f.get("startTime").Int(),
		EnterNS:     f.get("enterNS").Bool(),
		InstanceUID: f.get("instance_uid").String(),
		TLS:         f.get("tls").String(),
	}
	for i := range ports.Len() {
		r.ProxyPorts = append(r.ProxyPorts, uint32(ports.Get(i).Uint()))
	}
	return r
}

func requestToWire(r ApplyHTTPChaosRequest) *dynamicpb.Message {
	m := dynamicpb.NewMessage(wire.request)
	f := fields{m}
	f.set("rules", protoreflect.ValueOfString(r.Rules))
	if len(r.ProxyPorts) > 0 {
		ports := m.Mutable(f.fd("proxy_ports")).List()
		for _, p := range r.ProxyPorts {
			ports.Append(protoreflect.ValueOfUint32(p))
		}
	}
	f.set("container_id", protoreflect.ValueOfString(r.ContainerID))
	f.set("instance", protoreflect.ValueOfInt64(r.Instance))
	f.set("startTime", protoreflect.ValueOfInt64(r.StartTime))
	f.set("enterNS", protoreflect.ValueOfBool(r.EnterNS))
	f.set("instance_uid", protoreflect.ValueOfString(r.InstanceUID))
	f.set("tls", protoreflect.ValueOfString(r.TLS))
	return m
}

func responseFromWire(m *dynamicpb.Message) ApplyHTTPChaosResponse {
	f := fields{m}
	return ApplyHTTPChaosResponse{
		Instance:    f.get("instance").Int(),
		StartTime:   f.get("startTime").Int(),
		StatusCode:  int32(f.get("statusCode").Int()),
		Error:       f.get("error").String(),
		InstanceUID: f.get("instance_uid").String(),
	}
}

func responseToWire(r ApplyHTTPChaosResponse) *dynamicpb.Message {
	m := dynamicpb.NewMessage(wire.response)
	f := fields{m}
	f.set("instance", protoreflect.ValueOfInt64(r.Instance))
	f.set("startTime", protoreflect.ValueOfInt64(r.StartTime))
	f.set("statusCode", protoreflect.ValueOfInt32(r.StatusCode))
	f.set("error", protoreflect.ValueOfString(r.Error))
	f.set("instance_uid", protoreflect.ValueOfString(r.InstanceUID))
	return m
}

// ApplyHTTPChaos calls ApplyHttpChaos on the chaos-daemon (stand-in or
// real) at the other end of cc, as the controller's PodHttpChaos
// reconciler does.
func ApplyHTTPChaos(ctx context.Context, cc grpc.ClientConnInterface, req ApplyHTTPChaosRequest) (ApplyHTTPChaosResponse, error) {
	out := dynamicpb.NewMessage(wire.response)
	if err := cc.Invoke(ctx, "/"+ServiceName+"/ApplyHttpChaos", requestToWire(req), out); err != nil {
		return ApplyHTTPChaosResponse{}, err
	}
	return responseFromWire(out), nil
}
