module {{ cookiecutter.module_path }}

// One Go version: the go_version answer writes this line and the Dockerfile's
// builder image (ARG GO_IMAGE); `copier update --data go_version=X` moves both.
go {{ cookiecutter.go_version }}

// Requirements follow (`go get` adds them), apart from the go line above, so a
// template update that moves it merges with them.
