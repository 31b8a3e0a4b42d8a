// Pins the upstream modules whose CustomResourceDefinitions the tests install (Grove). Build tool
// only: nothing here is part of the product, and no Go code is compiled from it.
module dynamo-operator.local/hack/tools/crds

go 1.26.0

require github.com/ai-dynamo/grove/operator/api v0.1.0-alpha.6
