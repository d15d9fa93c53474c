#!/usr/bin/env bash
# Packs what the GPU check needs into .gpu/ at the repository root (ignored by git), on a build
# machine with Java 25 and Maven: a jlink'ed Java runtime (the GPU machine has no Java), the
# runtime's jar, test jar and dependencies, the JUnit console launcher, and stories260K.
# Then, on the GPU machine, from the repository root: runtime/src/test/gpu/check.sh
set -euo pipefail
cd "$(dirname "$0")/../../../.."
: "${JAVA_HOME:=/usr/lib/jvm/temurin-25-jdk-amd64}"
export JAVA_HOME
M=(-B -q ${MAVEN_REPO:+-Dmaven.repo.local=$MAVEN_REPO})
out=.gpu
rm -rf "$out" && mkdir -p "$out/lib" "$out/models"
grep -qxF '/.gpu/' .git/info/exclude 2>/dev/null || echo '/.gpu/' >> .git/info/exclude

./mvnw "${M[@]}" install -pl runtime -am -DskipTests
cp runtime/target/pcw-runtime-*-SNAPSHOT.jar runtime/target/pcw-runtime-*-SNAPSHOT-tests.jar "$out/lib/"
./mvnw "${M[@]}" dependency:copy-dependencies -pl runtime -DincludeScope=runtime -DoutputDirectory="$PWD/$out/lib"
./mvnw "${M[@]}" dependency:copy -Dartifact=org.junit.platform:junit-platform-console-standalone:6.0.3 -DoutputDirectory="$PWD/$out/junit"

# The GPU check needs no desktop, JFR or agents: the runtime's chat templates (Jinjava, which
# wants java.desktop's beans) are not loaded by it. The image travels as an xz archive, to fit
# the device tool's 64 MiB; check.sh unpacks it.
"$JAVA_HOME/bin/jlink" --add-modules java.base,java.logging,java.xml,java.management,jdk.incubator.vector,jdk.unsupported,jdk.zipfs \
    --compress zip-9 --strip-debug --strip-native-debug-symbols exclude-debuginfo-files \
    --no-header-files --no-man-pages --output "$out/jre"
strip --strip-unneeded "$out"/jre/lib/server/libjvm.so || true
tar -C "$out" -cJf "$out/jre.tar.xz" jre && rm -rf "$out/jre"

cp ../shared/models/stories260K.gguf "$out/models/"
du -sh "$out" "$out"/*
