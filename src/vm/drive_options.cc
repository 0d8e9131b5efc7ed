#include "vm/drive_options.h"

#include <set>

#include "util/option_list.h"

namespace ferry {

std::string DriveOptions::add_drive(const std::string& arg) {
  Drive d;
  std::string interface = "virtio";
  for (const std::string& part : split_option_list(arg)) {
    const size_t eq = part.find('=');
    const std::string key = part.substr(0, eq);
    const std::string value = eq == std::string::npos ? "on" : part.substr(eq + 1);
    if (key == "file") {
      d.config.file = value;
    } else if (key == "format") {
      if (value != "raw" && value != "qcow2")
        return "-drive " + arg + ": Unknown driver '" + value + "' (ferry reads raw and qcow2)";
      d.config.format = value;
    } else if (key == "if") {
      if (value != "virtio" && value != "none")
        return "-drive " + arg + ": unsupported interface '" + value +
               "' (the virt board's disks are virtio; if=none with -device)";
      interface = value;
    } else if (key == "id") {
      d.config.id = value;
    } else if (key == "readonly") {
      if (!parse_option_bool(value, &d.config.read_only))
        return "-drive " + arg + ": Parameter 'readonly' expects 'on' or 'off'";
    } else if (key == "cache") {
      static const std::set<std::string> kModes = {"writeback", "none", "writethrough",
                                                   "directsync", "unsafe"};
      if (!kModes.count(value)) return "-drive " + arg + ": invalid cache option '" + value + "'";
      d.config.cache = value;
    } else if (key == "media") {
      if (value != "disk") return "-drive " + arg + ": only media=disk is supported";
    } else if (key == "index") {
      // Accepted: drives take the slots in command-line order.
    } else {
      return "-drive " + arg + ": Invalid parameter '" + key + "'";
    }
  }
  if (d.config.file.empty()) return "-drive " + arg + ": a disk needs file=PATH";
  d.own_device = interface == "virtio";
  if (!d.own_device && d.config.id.empty())
    return "-drive " + arg + ": if=none needs an id= for -device …,drive=ID";
  for (const Drive& other : drives_)
    if (!d.config.id.empty() && other.config.id == d.config.id)
      return "-drive " + arg + ": Duplicate ID '" + d.config.id + "' for drive";
  drives_.push_back(std::move(d));
  return "";
}

std::string DriveOptions::add_device(const std::string& arg, int order) {
  const std::vector<std::string> parts = split_option_list(arg);
  const std::string driver = parts.empty() ? "" : parts[0];
  if (driver != "virtio-blk-device" && driver != "virtio-blk")
    return "-device " + arg + ": unsupported device '" + driver +
           "' (ferry has virtio-blk-device and virtio-net-device)";
  Device dev;
  dev.order = order;
  for (size_t i = 1; i < parts.size(); ++i) {
    const size_t eq = parts[i].find('=');
    const std::string key = parts[i].substr(0, eq);
    const std::string value = eq == std::string::npos ? "on" : parts[i].substr(eq + 1);
    if (key == "drive") dev.drive = value;
    else if (key == "serial") dev.serial = value;
    else if (key == "id") continue;
    else return "-device " + arg + ": Property '" + driver + "." + key + "' not found";
  }
  if (dev.drive.empty()) return "-device " + arg + ": drive property not set";
  devices_.push_back(std::move(dev));
  return "";
}

std::string DriveOptions::add_image(const std::string& path) {
  std::string escaped;  // a comma in the path is ",," in an option list
  for (char c : path) escaped += c == ',' ? std::string(",,") : std::string(1, c);
  return add_drive("file=" + escaped + ",if=virtio");
}

std::string DriveOptions::resolve(std::vector<DriveConfig>* disks) const {
  std::set<std::string> used;
  for (const Device& dev : devices_) {
    const Drive* found = nullptr;
    for (const Drive& d : drives_)
      if (d.config.id == dev.drive) found = &d;
    if (!found) return "-device virtio-blk-device,drive=" + dev.drive + ": Property "
                       "'virtio-blk-device.drive' can't find value '" + dev.drive + "'";
    if (found->own_device || !used.insert(dev.drive).second)
      return "-device virtio-blk-device,drive=" + dev.drive + ": Drive '" + dev.drive +
             "' is already in use by another device";
    DriveConfig c = found->config;
    c.serial = dev.serial;
    c.order = dev.order;
    disks->push_back(std::move(c));
  }
  // if=virtio drives make their devices after the -device ones.
  int order = kImplicitDeviceOrder;
  for (const Drive& d : drives_)
    if (d.own_device) {
      disks->push_back(d.config);
      disks->back().order = order++;
    }
  return "";
}

}  // namespace ferry
