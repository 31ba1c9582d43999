# STAND-IN for cloudify.workflows (cloudify-cosmo/cloudify-common): the
# workflow context and parameters a workflow script sees when the script
# plugin's execute_workflow evaluates it, with the calls the forwarder makes
# (get_node, node.instances, has_operation, graph_mode, sequence().add,
# send_event, execute_operation(operation, kwargs, allow_kwargs_override),
# graph.execute) recorded instead of sent to a manager.
import json
import os

_world = json.load(open(os.environ['WFCTX_WORLD']))
_record = []


class _Task(object):
    def __init__(self, call):
        self.call = call


class _Instance(object):
    def __init__(self, node, instance_id):
        self.node = node
        self.id = instance_id

    def send_event(self, message):
        return _Task({'event': message, 'instance': self.id})

    def execute_operation(self, operation, kwargs=None, allow_kwargs_override=False,
                          send_task_events=True):
        return _Task({'operation': operation, 'instance': self.id, 'kwargs': kwargs or {},
                      'allow_kwargs_override': allow_kwargs_override})


class _Node(object):
    def __init__(self, node_id, spec):
        self.id = node_id
        self.operations = spec.get('operations', [])
        self._instances = [_Instance(self, i) for i in spec.get('instances', [])]

    @property
    def instances(self):
        return iter(self._instances)

    def has_operation(self, operation):
        return operation in self.operations


class _Sequence(object):
    def __init__(self, graph):
        self.graph = graph

    def add(self, *tasks):
        self.graph.tasks.extend(t.call for t in tasks)


class _Graph(object):
    def __init__(self):
        self.tasks = []

    def sequence(self):
        return _Sequence(self)

    def execute(self):
        _record.extend(self.tasks)


class _Context(object):
    dry_run = False

    def __init__(self):
        self._nodes = dict((k, _Node(k, v)) for k, v in _world['nodes'].items())

    @property
    def nodes(self):
        return iter(self._nodes.values())

    def get_node(self, node_id):
        return self._nodes.get(node_id)

    def graph_mode(self):
        return _Graph()


class _Parameters(dict):
    def __getattr__(self, name):
        return self.get(name)


ctx = _Context()
parameters = _Parameters(_world['parameters'])
