// The viewer's page (tools/adgap/web/), built into the binary by web/embed.cmake: `adgap serve`
// serves these and nothing else from its own files.
#pragma once

#include <string>
#include <vector>

namespace adgap::cli {

struct WebAsset {
  const char* path;  // URL path, e.g. "/app.js"
  const char* type;  // Content-Type
  std::string body;
};

const std::vector<WebAsset>& web_assets();

}  // namespace adgap::cli
