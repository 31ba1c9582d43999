# STAND-IN for the part of Cloudify's cloudify package a workflow script
# imports (cloudify.workflows); see ../../doc.go.
