#!/usr/bin/env bash
# Sourced by the README's commands: makes sure a Vulkan driver exists. wgtrain runs on Vulkan; a
# machine without a GPU driver has no Vulkan adapter (its GL llvmpipe adapter lacks f16 and
# subgroups), so this installs Mesa's software Vulkan driver, lavapipe, when none is present.

# True when any Vulkan driver manifest (ICD) is installed. `compgen -G` tests a glob without
# failing on folders that do not exist.
has_vulkan_icd() {
    local dir
    for dir in /usr/share/vulkan/icd.d /etc/vulkan/icd.d /usr/local/share/vulkan/icd.d; do
        if compgen -G "$dir/*.json" >/dev/null; then return 0; fi
    done
    return 1
}

if ! has_vulkan_icd; then
    echo "No Vulkan driver found: installing Mesa's lavapipe (mesa-vulkan-drivers) to run on the CPU."
    SUDO=""
    if [ "$(id -u)" -ne 0 ]; then SUDO="sudo"; fi
    $SUDO apt-get update -qq
    DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq mesa-vulkan-drivers >/dev/null
fi

# On a headless machine, Mesa's implicit device-select layer tries to connect to a Wayland
# display to pick the default GPU, and libwayland prints "XDG_RUNTIME_DIR is invalid or not set"
# on every run. wgtrain picks its adapter itself, so the layer has nothing to do: turn it off
# (only it; every other message still prints). A user's own setting wins.
if [ -z "${DISPLAY:-}" ] && [ -z "${WAYLAND_DISPLAY:-}" ]; then
    export NODEVICE_SELECT="${NODEVICE_SELECT:-1}"
fi
