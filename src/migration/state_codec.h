// Device state on the wire: StateVisitor implementations that write a
// component's fields into a section payload, read them back, or print them.
//
// Each field travels as: u8 type tag, str name, value (arrays: u32 count
// then the values; bytes: u32 length then the data). The list ends with
// kFieldEnd. The loader checks every name and type against what the
// component expects, in order, and names the first mismatch.
#pragma once

#include <ostream>
#include <string>

#include "migration/stream.h"
#include "state/state_visitor.h"

namespace ferry {

// Writes every field the component visits.
void save_state_fields(StateOwner& owner, int version, StreamWriter& out);
// Loads fields saved at `version` into `owner`; false (with reader.fail())
// on any mismatch; calls post_load() on success.
bool load_state_fields(StateOwner& owner, int version, StreamReader& in);
// Prints the fields of a saved payload without knowing the component:
// "  name = value" lines. False when the payload is malformed.
bool print_state_fields(StreamReader& in, std::ostream& out);

}  // namespace ferry
