# chaosops:forward-parameters v1
#
# The workflow function of the chaos workflows (RunHTTPChaos, RunChaos, ...).
# Cloudify's script plugin runs this file as Python in the mgmtworker
# (script_runner.tasks.execute_workflow), with the workflow context and
# the execution's parameters, typed and checked by the manager.
#
# It only forwards: every parameter that is set becomes an input of the same
# name of operation `operation` on each instance of the nodes `node_ids`,
# and the workflow waits for them. A parameter left empty ("", [] or {}) is
# not forwarded, so the operation falls back to the deployment's value.
# `operation_kwargs` is the deprecated form: its keys are forwarded as they
# are and win over the typed parameters. Every check and all the logic are
# in the chaosops binary the operation runs; keep this file a forwarder
# (chaosops local runs the same contract in Go, and a test holds the two
# together).
from cloudify.workflows import ctx, parameters

STEERING = ('operation', 'node_ids', 'operation_kwargs', 'script_path')


def unset(value):
    return value is None or (isinstance(value, (str, list, dict)) and len(value) == 0)


def forwarded(params):
    kwargs = {}
    for name, value in params.items():
        if name not in STEERING and not unset(value):
            kwargs[name] = value
    kwargs.update(params.get('operation_kwargs') or {})
    return kwargs


operation = parameters.get('operation')
node_ids = parameters.get('node_ids') or []
if not operation or not node_ids:
    raise ValueError('workflow parameters operation and node_ids must be set')
kwargs = forwarded(dict(parameters))

graph = ctx.graph_mode()
for node_id in node_ids:
    node = ctx.get_node(node_id)
    if node is None:
        raise ValueError('node_ids: the deployment has no node {0}'.format(node_id))
    if not node.has_operation(operation):
        # Cloudify would run nothing and succeed.
        raise ValueError('node {0} has no operation {1}'.format(node_id, operation))
    for instance in node.instances:
        # Names only: values can be secrets (token, prometheus_token).
        sequence = graph.sequence()
        sequence.add(
            instance.send_event('Starting {0} (set: {1})'.format(
                operation, ', '.join(sorted(kwargs)) or 'nothing')),
            instance.execute_operation(operation, kwargs=kwargs,
                                       allow_kwargs_override=True),
            instance.send_event('Finished {0}'.format(operation)))
graph.execute()
