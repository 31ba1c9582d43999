# Evaluates a workflow script as script_runner's execute_workflow does
# (a fresh globals dict, __name__ '__main__'), then writes what it did:
# {"calls": [...]} on success, {"error": "..."} when the script raised.
import json
import os
import sys

import cloudify.workflows as workflows

script = sys.argv[1]
out = {}
try:
    source = open(script).read()
    exec(compile(source, script, 'exec'), {'__name__': '__main__', '__file__': script})
    out['calls'] = workflows._record
except Exception as e:  # the manager fails the execution with the message
    out['error'] = '%s: %s' % (type(e).__name__, e)
json.dump(out, open(os.environ['WFCTX_OUT'], 'w'))
