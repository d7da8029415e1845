// kubectl for skaffold in the cluster tests: skaffold renders with `kubectl kustomize` and
// deploys with `kubectl apply`, so it needs a kubectl on PATH, of the control plane's version.
// The same entry point as k8s.io/kubernetes/cmd/kubectl, built from the k8s.io/kubectl module
// without pulling in all of Kubernetes.
package main

import (
	"os"

	"k8s.io/component-base/cli"
	"k8s.io/component-base/logs"
	"k8s.io/kubectl/pkg/cmd"
	"k8s.io/kubectl/pkg/cmd/util"

	// Client auth plugins (exec, OIDC), as in the real kubectl.
	_ "k8s.io/client-go/plugin/pkg/client/auth"
)

func main() {
	logs.GlogSetter(cmd.GetLogVerbosity(os.Args)) // nolint:errcheck
	if err := cli.RunNoErrOutput(cmd.NewDefaultKubectlCommand()); err != nil {
		util.CheckErr(err)
	}
}
