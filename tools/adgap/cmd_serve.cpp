// adgap serve: the viewer. One built-in page and a small JSON API over the library's public API
// (adgap/adgap.h), served by cpp-httplib (Debian's libcpp-httplib-dev).
//
//   GET  /  /app.js  /style.css   the page (built into the binary: no path from a request
//                                 reaches the file system)
//   GET  /api/info                model, methods, modes, polarities, classes, defaults, samples,
//                                 limits
//   GET  /api/samples/N           sample photo N (opencv-doc photos read when the server starts)
//   POST /api/analyze?method=&mode=&polarity=&class=&name=&digits=
//                                 body: the bytes of an image file. Answer: {"result": one image
//                                 of `adgap detect --json`'s schema, "digits", "map": the raw
//                                 [0, 1] map as an 8-bit gray PNG (base64), "stats": its mean and
//                                 std, "k", "options", "ms"}. digits=0: the map alone (no
//                                 detections; a fraction of the time), which the page shows first
//
// Errors are {"error": "one line"}: 400 (bad parameter, broken image), 404, 411 (no
// Content-Length), 415 (a form instead of the file's bytes), 413 (body or pixels over the limits), 503 (busy: the analyses running and
// waiting are at their limits).
#include <httplib.h>
#include <nlohmann/json.hpp>
#include <opencv2/core.hpp>
#include <opencv2/imgcodecs.hpp>
#include <opencv2/imgproc.hpp>

#include <malloc.h>
#include <signal.h>
#include <unistd.h>

#include <cerrno>
#include <atomic>
#include <chrono>
#include <cmath>
#include <condition_variable>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <list>
#include <map>
#include <memory>
#include <mutex>
#include <thread>

#include "adgap/detect/detector.h"
#include "adgap/io/limits.h"
#include "adgap/methods/methods.h"
#include "commands.h"
#include "map_options.h"
#include "web_assets.h"

namespace adgap::cli {

namespace {

using Json = nlohmann::ordered_json;

constexpr const char* kPhotoDir = "/usr/share/doc/opencv-doc/examples/data/";
// Photos with digits offered on the page (opencv-doc's digits.png is held out for testing).
constexpr const char* kSamples[] = {"sudoku.png", "licenseplate_motion.jpg", "imageTextN.png",
                                    "text_motion.jpg"};
// With a charset, JSON answers are sent as they are: cpp-httplib would otherwise compress
// "application/json" with Brotli at its highest quality when the browser accepts it, which took
// longer than computing a 1-megapixel map (0.4 s for a 0.5 MB answer).
constexpr const char* kJson = "application/json; charset=utf-8";
constexpr int64_t kMaxMapPixels = 4'000'000;  // larger maps are sent downscaled to this

std::string base64(const std::vector<uint8_t>& b) {
  static const char* k = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  std::string out;
  out.reserve((b.size() + 2) / 3 * 4);
  size_t i = 0;
  for (; i + 2 < b.size(); i += 3) {
    const uint32_t v = (uint32_t{b[i]} << 16) | (uint32_t{b[i + 1]} << 8) | b[i + 2];
    for (int s = 18; s >= 0; s -= 6) out += k[(v >> s) & 63];
  }
  if (i < b.size()) {
    const uint32_t v = (uint32_t{b[i]} << 16) | (i + 1 < b.size() ? uint32_t{b[i + 1]} << 8 : 0);
    out += k[(v >> 18) & 63];
    out += k[(v >> 12) & 63];
    out += i + 1 < b.size() ? k[(v >> 6) & 63] : '=';
    out += '=';
  }
  return out;
}

// At most `running` analyses at once and `waiting` more queued for a turn; beyond, busy.
class Gate {
 public:
  Gate(int running, int waiting) : running_(running), waiting_(waiting) {}
  // Waits for a turn; false at once when the queue is full.
  bool enter() {
    std::unique_lock<std::mutex> lock(m_);
    if (active_ >= running_ && queued_ >= waiting_) return false;
    ++queued_;
    cv_.wait(lock, [&] { return active_ < running_; });
    --queued_;
    ++active_;
    return true;
  }
  void leave() {
    {
      std::lock_guard<std::mutex> lock(m_);
      --active_;
    }
    cv_.notify_one();
  }

 private:
  std::mutex m_;
  std::condition_variable cv_;
  const int running_, waiting_;
  int active_ = 0, queued_ = 0;
};

// Localizers for the option sets the page asks for, loaded on first use, the least recently
// used dropped beyond `capacity`. The networks are shared by the requests using them.
class Localizers {
 public:
  // `first`, loaded with the server's options, is the first entry.
  Localizers(std::string model, std::shared_ptr<const Localizer> first, size_t capacity)
      : model_(std::move(model)), base_(first->options()), capacity_(capacity) {
    lru_.emplace_front(key(base_), std::move(first));
  }

  static std::string key(const Options& o) {
    return o.method + "|" + o.mode + "|" + o.polarity + "|" + std::to_string(o.cls);
  }

  std::shared_ptr<const Localizer> get(const Options& o) {
    const std::string key = Localizers::key(o);
    std::lock_guard<std::mutex> lock(m_);  // a load takes a fraction of a second
    for (auto it = lru_.begin(); it != lru_.end(); ++it) {
      if (it->first == key) {
        lru_.splice(lru_.begin(), lru_, it);
        return it->second;
      }
    }
    auto loc = std::make_shared<const Localizer>(Localizer::load(model_, o));
    lru_.emplace_front(key, loc);
    if (lru_.size() > capacity_) lru_.pop_back();
    return loc;
  }
  const Options& base() const { return base_; }

 private:
  std::mutex m_;
  std::string model_;
  Options base_;
  size_t capacity_;
  std::list<std::pair<std::string, std::shared_ptr<const Localizer>>> lru_;
};

struct Sample {
  std::string name, type;
  std::string bytes;
};

void send_error(httplib::Response& res, int status, const std::string& message) {
  res.status = status;
  res.set_content(Json{{"error", message}}.dump(-1, ' ', false, Json::error_handler_t::replace),
                  kJson);
}

const char* reason_of(int status) {
  switch (status) {
    case 400: return "bad request";
    case 404: return "no such page";
    case 405: return "method not allowed";
    case 411: return "a request body needs a Content-Length";
    case 413: return "request body over the limit";
    case 414: return "request URI too long";
    case 431: return "request headers too large";
    case 503: return "busy";
    default: return "error";
  }
}

// SIGINT and SIGTERM, on whichever thread they land (libraries start threads of their own), are
// written to a pipe; a watcher thread reads it and stops the server.
int stop_pipe[2] = {-1, -1};

extern "C" void on_stop_signal(int sig) {
  const unsigned char b = static_cast<unsigned char>(sig);
  [[maybe_unused]] const ssize_t n = write(stop_pipe[1], &b, 1);  // async-signal-safe
}

void catch_stop_signals() {
  if (pipe(stop_pipe) != 0) throw std::runtime_error("cannot create a pipe for signals");
  struct sigaction sa {};
  sa.sa_handler = on_stop_signal;
  sigemptyset(&sa.sa_mask);
  sa.sa_flags = SA_RESTART;
  sigaction(SIGINT, &sa, nullptr);
  sigaction(SIGTERM, &sa, nullptr);
}

}  // namespace

int cmd_serve(int argc, char** argv) {
  MapOptions o;
  std::string host = "127.0.0.1";
  int64_t port = 8080, max_body = 64 << 20, running = 2, waiting = 8, cached = 8;
  bool quiet = false;
  o.max_pixels = 40'000'000;
  Args args("serve",
            "An interactive viewer in the browser: drop a photo, see its map, mask and digits.\n"
            "Serves one page and a JSON API (README, \"The viewer\") on http://HOST:PORT/.\n"
            "The map and detection options below are the page's defaults.");
  o.add_to(args, /*detection=*/true);
  args.text("host", &host, "ADDR", "address to listen on (0.0.0.0: every interface)");
  args.integer("port", &port, 0, 65535, "port (0: any free port, printed)");
  args.integer("max-body", &max_body, 1, int64_t{1} << 31, "bytes: larger uploads get 413");
  args.integer("running", &running, 1, 64, "analyses computed at once");
  args.integer("waiting", &waiting, 0, 1024, "analyses queued for a turn; beyond them: 503");
  args.integer("cache", &cached, 1, 64, "option sets kept loaded (method, mode, ...)");
  args.flag("quiet", &quiet, "no line per request");
  if (!args.parse(argc, argv, 2)) return 0;
  const auto loaded = std::make_shared<const Localizer>(o.load());
  const Localizer& first = *loaded;
  first.detector().require_reader();
  const int64_t classes = first.detector().model.meta.num_classes;
  // Other option sets load the same files (the model found, when none was given).
  Localizers localizers(first.model_path(), loaded, static_cast<size_t>(cached));
  {
    // The first computation in a process starts thread pools and picks kernels: done here on a
    // blank image rather than in the first user's request.
    const std::vector<uint8_t> blank(256 * 256, 255);
    first.detect({blank.data(), 256, 256, 1, 0});
  }
  Gate gate(static_cast<int>(running), static_cast<int>(waiting));

  std::vector<Sample> samples;
  for (const char* name : kSamples) {
    const std::string path = std::string(kPhotoDir) + name;
    std::ifstream in(path, std::ios::binary);
    if (!in) continue;
    const std::string ext = std::filesystem::path(name).extension().string();
    samples.push_back({name, ext == ".png" ? "image/png" : "image/jpeg",
                       std::string(std::istreambuf_iterator<char>(in), {})});
  }

  Json info;
  info["model"] = first.model_path();
  info["weights"] = first.weights_path();
  info["reader"] = first.reader_path();
  Json methods = Json::array();
  for (Method m : all_methods()) methods.push_back(to_string(m));
  info["methods"] = methods;
  info["modes"] = {"paper", "pooled", "dense"};
  info["polarities"] = {"auto", "light-on-dark", "dark-on-light", "both"};
  info["classes"] = classes;
  const Options& d = first.options();
  info["defaults"] = {{"method", d.method}, {"mode", d.mode}, {"polarity", d.polarity},
                      {"class", d.cls},     {"k", d.k},       {"threshold", d.threshold}};
  Json sample_list = Json::array();
  for (size_t i = 0; i < samples.size(); ++i) {
    sample_list.push_back({{"id", i}, {"name", samples[i].name}});
  }
  info["samples"] = sample_list;
  info["limits"] = {{"max_body_bytes", max_body}, {"max_pixels", max_image_pixels()}};
  const std::string info_text = info.dump();

  httplib::Server svr;
  const size_t threads = static_cast<size_t>(running + waiting + 4);
  svr.new_task_queue = [threads] { return new httplib::ThreadPool(threads); };
  // SO_REUSEADDR (a restart need not wait for old connections) but not cpp-httplib's default
  // SO_REUSEPORT, which would let a second server bind the same port and take half its requests.
  svr.set_socket_options([](socket_t sock) {
    int yes = 1;
    setsockopt(sock, SOL_SOCKET, SO_REUSEADDR, &yes, sizeof yes);
  });
  svr.set_payload_max_length(static_cast<size_t>(max_body));
  svr.set_read_timeout(10, 0);
  svr.set_write_timeout(10, 0);
  svr.set_keep_alive_timeout(2);
  // One request a connection: a body refused unread (411, 415) is never taken for the next
  // request, and no idle connection holds a thread.
  svr.set_keep_alive_max_count(1);

  // Bodies without a Content-Length (chunked, or read to the end) are refused before anything
  // is read, whatever the method: cpp-httplib 0.11.4 does not apply the body limit to them
  // (CVE-2025-46728), and reads them for PUT, PATCH and DELETE before finding no route.
  svr.set_pre_routing_handler([](const httplib::Request& req, httplib::Response& res) {
    if (req.has_header("Transfer-Encoding")) {
      send_error(res, 411, "Transfer-Encoding is not accepted: send the body with a Content-Length");
      return httplib::Server::HandlerResponse::Handled;
    }
    if (req.method != "GET" && req.method != "HEAD" && !req.has_header("Content-Length")) {
      send_error(res, 411, "a request body needs a Content-Length");
      return httplib::Server::HandlerResponse::Handled;
    }
    // Forms would be parsed by cpp-httplib (and cut at 8 KiB): the body is the file itself.
    const std::string type = req.get_header_value("Content-Type");
    if (type.rfind("application/x-www-form-urlencoded", 0) == 0 ||
        type.rfind("multipart/", 0) == 0) {
      send_error(res, 415, "send the image file's bytes as the body, with Content-Type image/* or "
                           "application/octet-stream, not " + type.substr(0, type.find(';')));
      return httplib::Server::HandlerResponse::Handled;
    }
    return httplib::Server::HandlerResponse::Unhandled;
  });
  svr.set_error_handler([max_body](const httplib::Request&, httplib::Response& res) {
    if (!res.body.empty()) return;
    std::string why = reason_of(res.status);
    if (res.status == 413) why += " of " + std::to_string(max_body) + " bytes";
    send_error(res, res.status, why);
  });
  svr.set_exception_handler([](const httplib::Request&, httplib::Response& res,
                                std::exception_ptr ep) {
    std::string why = "internal error";
    try {
      std::rethrow_exception(ep);
    } catch (const std::exception& e) {
      why += std::string(": ") + e.what();
    } catch (...) {
    }
    send_error(res, 500, why.substr(0, why.find('\n')));
  });
  if (!quiet) {
    svr.set_logger([](const httplib::Request& req, const httplib::Response& res) {
      std::fprintf(stderr, "%s %s %d\n", req.method.c_str(), req.path.c_str(), res.status);
    });
  }

  for (const WebAsset& a : web_assets()) {
    svr.Get(a.path, [&a](const httplib::Request&, httplib::Response& res) {
      res.set_content(a.body, a.type);
      res.set_header("Cache-Control", "no-cache");
    });
  }
  svr.Get("/api/info", [&](const httplib::Request&, httplib::Response& res) {
    res.set_content(info_text, kJson);
  });
  svr.Get(R"(/api/samples/(\d{1,3}))", [&](const httplib::Request& req, httplib::Response& res) {
    const size_t i = std::stoul(req.matches[1].str());
    if (i >= samples.size()) return send_error(res, 404, "no sample " + req.matches[1].str());
    res.set_content(samples[i].bytes, samples[i].type.c_str());
  });
  svr.Post("/api/analyze", [&](const httplib::Request& req, httplib::Response& res) {
    const auto t0 = std::chrono::steady_clock::now();
    Options opt = localizers.base();
    std::string name = req.has_param("name") ? req.get_param_value("name") : "upload";
    if (name.empty() || name.size() > 255 || name.find_first_of("\r\n") != std::string::npos) {
      return send_error(res, 400, "name: expected 1 to 255 characters on one line");
    }
    if (req.has_param("method")) opt.method = req.get_param_value("method");
    if (req.has_param("mode")) opt.mode = req.get_param_value("mode");
    if (req.has_param("polarity")) opt.polarity = req.get_param_value("polarity");
    if (req.has_param("class")) {
      const std::string c = req.get_param_value("class");
      char* end = nullptr;
      const long v = std::strtol(c.c_str(), &end, 10);
      if (c.empty() || *end || v < -1 || v >= classes) {
        return send_error(res, 400, "class: '" + c + "' is not -1 (global) or a class in [0, " +
                                        std::to_string(classes) + ")");
      }
      opt.cls = static_cast<int>(v);
    }
    bool digits = true;
    if (req.has_param("digits")) {
      const std::string v = req.get_param_value("digits");
      if (v != "0" && v != "1") return send_error(res, 400, "digits: '" + v + "' is not 0 or 1");
      digits = v == "1";
    }
    if (req.body.empty()) return send_error(res, 400, name + ": empty file");
    if (!gate.enter()) {
      res.set_header("Retry-After", "1");
      return send_error(res, 503, "busy: " + std::to_string(running) + " analyses running and " +
                                      std::to_string(waiting) + " waiting; try again");
    }
    struct Leave {
      Gate& g;
      ~Leave() {
        g.leave();
        // The library keeps freed memory for reuse (adgap/util/threads.h, configure_allocator);
        // a server hands it back after each analysis, so that its memory stays flat under
        // load (measured: without this, 525 MB grew to 646 MB in a minute of 20 clients).
        malloc_trim(0);
      }
    } leave{gate};
    std::shared_ptr<const Localizer> loc;
    try {
      loc = localizers.get(opt);
    } catch (const std::invalid_argument& e) {  // an option value out of range
      return send_error(res, 400, e.what());
    }
    DecodedImage img;
    try {
      img = decode_image(req.body.data(), req.body.size(), name);
    } catch (const ImageTooLarge& e) {
      return send_error(res, 413, e.what());
    } catch (const std::invalid_argument& e) {
      return send_error(res, 400, e.what());
    }
    ImageResult r;
    r.path = name;
    r.width = img.width;
    r.height = img.height;
    Heatmap map;
    if (digits) {
      r.detections = loc->detect(img.view(), &map);
      r.numbers = read_numbers(r.detections, img.view());
    } else {
      map = loc->heatmap(img.view());
    }

    const cv::Mat m(map.height, map.width, CV_32F, map.values.data());
    cv::Scalar mean, sd;
    cv::meanStdDev(m, mean, sd);
    cv::Mat m8;
    m.convertTo(m8, CV_8U, 255.0);
    double scale = 1;
    if (int64_t{m8.cols} * m8.rows > kMaxMapPixels) {
      scale = std::sqrt(double(kMaxMapPixels) / (double(m8.cols) * m8.rows));
      const cv::Size size(std::max(1, static_cast<int>(std::lround(m8.cols * scale))),
                          std::max(1, static_cast<int>(std::lround(m8.rows * scale))));
      cv::resize(m8, m8, size, 0, 0, cv::INTER_AREA);
    }
    std::vector<uint8_t> png;
    cv::imencode(".png", m8, png, {cv::IMWRITE_PNG_COMPRESSION, 1});
    Json out;
    out["result"] = Json::parse(to_json(r));
    out["digits"] = digits;
    out["map"] = {{"width", m8.cols}, {"height", m8.rows}, {"scale", scale}, {"png", base64(png)}};
    out["stats"] = {{"mean", mean[0]}, {"std", sd[0]}};
    out["k"] = opt.k;
    out["options"] = {{"method", opt.method}, {"mode", opt.mode}, {"polarity", opt.polarity},
                      {"class", opt.cls}};
    out["ms"] = std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0)
                    .count();
    res.set_content(out.dump(-1, ' ', false, Json::error_handler_t::replace), kJson);
  });

  catch_stop_signals();  // from here, SIGINT and SIGTERM stop the server cleanly
  int bound = -1;
  if (port == 0) {
    bound = svr.bind_to_any_port(host);
  } else if (svr.bind_to_port(host, static_cast<int>(port))) {
    bound = static_cast<int>(port);
  }
  if (bound < 0) {
    throw std::runtime_error("cannot listen on " + host + ":" + std::to_string(port) +
                             " (address in use or not available)");
  }
  const bool v6 = host.find(':') != std::string::npos;
  std::printf("adgap serve: http://%s%s%s:%d/ (model %s; Ctrl-C stops)\n", v6 ? "[" : "",
              host.c_str(), v6 ? "]" : "", bound, first.model_path().c_str());

  std::atomic<bool> signalled{false}, ended{false};
  std::thread watcher([&] {
    unsigned char sig = 0;
    while (read(stop_pipe[0], &sig, 1) < 0 && errno == EINTR) {
    }
    if (sig == 0) return;  // the server ended by itself
    signalled = true;
    std::fprintf(stderr, "adgap serve: %s, stopping\n", sig == SIGINT ? "SIGINT" : "SIGTERM");
    while (!svr.is_running() && !ended) {  // a signal just before listening began
      std::this_thread::sleep_for(std::chrono::milliseconds(5));
    }
    svr.stop();  // requests being answered are finished first
  });
  bool ok = false;
  std::string failure;
  try {
    ok = svr.listen_after_bind();
  } catch (const std::exception& e) {  // e.g. no threads for the pool
    failure = e.what();
  }
  ended = true;
  if (!signalled) {
    const unsigned char zero = 0;
    [[maybe_unused]] const ssize_t n = write(stop_pipe[1], &zero, 1);  // ends the watcher
  }
  watcher.join();
  if (!failure.empty()) throw std::runtime_error(failure);
  if (!signalled && !ok) throw std::runtime_error("the server stopped on an error");
  std::printf("adgap serve: stopped\n");
  return 0;
}

}  // namespace adgap::cli
