package chaosdaemon

import (
	"context"
	"errors"

	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/types/dynamicpb"
)

// Calls are the calls of chaos-daemon's service, in the order of
// chaosdaemon.proto. The stand-in serves ApplyHttpChaos and answers every
// other one with code Unimplemented.
var Calls = []string{
	"SetTcs", "FlushIPSets", "SetIptablesChains", "SetTimeOffset", "RecoverTimeOffset",
	"ContainerKill", "ContainerGetPid", "ExecStressors", "CancelStressors", "ApplyIOChaos",
	"ApplyHttpChaos", "ApplyBlockChaos", "RecoverBlockChaos", "SetDNSServer",
	"InstallJVMRules", "UninstallJVMRules",
}

// applyHTTPChaosCall is the one call served.
const applyHTTPChaosCall = "ApplyHttpChaos"

// serviceDesc describes chaos-daemon's service to grpc-go, with handlers
// that decode the messages through the hand-made descriptors.
func (s *Server) serviceDesc() *grpc.ServiceDesc {
	desc := &grpc.ServiceDesc{ServiceName: ServiceName, HandlerType: (*any)(nil), Metadata: "chaosdaemon.proto"}
	for _, name := range Calls {
		h := unimplemented(name)
		if name == applyHTTPChaosCall {
			h = s.handleApplyHTTPChaos
		}
		desc.Methods = append(desc.Methods, grpc.MethodDesc{MethodName: name, Handler: h})
	}
	return desc
}

func (s *Server) handleApplyHTTPChaos(_ any, ctx context.Context, dec func(any) error, interceptor grpc.UnaryServerInterceptor) (any, error) {
	in := dynamicpb.NewMessage(wire.request)
	if err := dec(in); err != nil {
		return nil, err
	}
	call := func(ctx context.Context, _ any) (any, error) {
		resp, err := s.ApplyHTTPChaos(ctx, requestFromWire(in))
		if err != nil {
			return nil, err
		}
		return responseToWire(resp), nil
	}
	if interceptor == nil {
		return call(ctx, in)
	}
	return interceptor(ctx, in, &grpc.UnaryServerInfo{Server: s, FullMethod: "/" + ServiceName + "/" + applyHTTPChaosCall}, call)
}

func unimplemented(name string) func(any, context.Context, func(any) error, grpc.UnaryServerInterceptor) (any, error) {
	return func(any, context.Context, func(any) error, grpc.UnaryServerInterceptor) (any, error) {
		return nil, status.Errorf(codes.Unimplemented,
			"chaos-daemon stand-in: %s is not served; only ApplyHttpChaos (HTTPChaos) is, through fault proxies (see package daemonstandin)", name)
	}
}

// grpcError turns err into the status the controller sees: a status error
// as it is, a cancelled or expired call as its context error, anything else
// as code Unknown, which is what chaos-daemon's own errors become.
func grpcError(err error) error {
	if _, ok := status.FromError(err); ok {
		return err
	}
	if errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) {
		return status.FromContextError(err).Err()
	}
	return status.Error(codes.Unknown, err.Error())
}
