#!/bin/sh
# The builder pattern, as it was done before multi-stage builds:
#   1. build the build image from Dockerfile.build (JDK: compiles, makes the jar)
#   2. create a container from it
#   3. copy the jar out of the container onto the host
#   4. build the runtime image from Dockerfile (JRE + the jar)
# It needs a Docker daemon: `docker create` and `docker cp` are the point.
#
# Offline (no registry), set BASE_CONTEXTS to the --build-context flags that
# replace the FROM images with the offline bases imported into Docker's
# image store, as `make examples` does:
#   BASE_CONTEXTS="--build-context eclipse-temurin:17-jdk=$(scripts/offline-bases docker jdk17)
#     --build-context eclipse-temurin:17-jre=$(scripts/offline-bases docker jre17)"
# (`scripts/offline-bases dir NAME`, the folders, work too, but Docker then
# reruns every step in every build.)
# The two builds then run through `stagescope build` on the same Docker
# daemon (Docker 20.10's own `docker build` has no --build-context); every
# other step is the same.
set -eu
cd "$(dirname "$0")"

IMAGE=helloworld
BUILDER=$IMAGE-builder
TAG=latest

# image TAG DOCKERFILE: build an image from this folder into Docker's store.
image() {
	if [ -n "${BASE_CONTEXTS:-}" ]; then
		# shellcheck disable=SC2086 # BASE_CONTEXTS is a list of flags
		env -u BUILDKIT_HOST "${STAGESCOPE:-stagescope}" build . -f "$2" -t "$1" $BASE_CONTEXTS --progress "${PROGRESS:-plain}"
	else
		docker build -t "$1" -f "$2" .
	fi
}

set -x
rm -f HelloWorld.jar
image "$BUILDER:$TAG" Dockerfile.build
docker rm -f "$BUILDER" >/dev/null 2>&1 || true
# The container is never started: it only holds the build image's files.
# (`true` is its command, for base images that set none.)
docker create --name "$BUILDER" "$BUILDER:$TAG" true >/dev/null
docker cp "$BUILDER:/app/HelloWorld.jar" ./HelloWorld.jar
docker rm "$BUILDER" >/dev/null
docker rmi "$BUILDER:$TAG" >/dev/null
image "$IMAGE:$TAG" Dockerfile
