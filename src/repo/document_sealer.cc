#include "repo/document_sealer.h"

#include "codec/compression.h"

namespace lifeboat {
namespace {

constexpr size_t kMaxDocumentBytes = size_t{1} << 30;
constexpr int kDocumentZstdLevel = 3;

std::string AssociatedData(std::string_view kind) {
  std::string ad = "lifeboat:";
  ad.append(kind);
  return ad;
}

}  // namespace

std::string DocumentSealer::Seal(std::string_view kind, const nlohmann::json& document) const {
  std::string compressed;
  ZstdCompress(document.dump(), kDocumentZstdLevel, &compressed);
  std::string sealed;
  aead_.Seal(compressed, AssociatedData(kind), &sealed);
  return sealed;
}

Result<nlohmann::json> DocumentSealer::Open(std::string_view kind, std::string_view sealed,
                                            std::string_view object_name) const {
  std::string context = "reading " + std::string(kind) + " " + std::string(object_name);
  std::string compressed;
  LB_RETURN_IF_ERROR(aead_.Open(sealed, AssociatedData(kind), &compressed).WithContext(context));
  std::string text;
  LB_RETURN_IF_ERROR(ZstdDecompress(compressed, kMaxDocumentBytes, &text).WithContext(context));
  nlohmann::json document = nlohmann::json::parse(text, nullptr, /*allow_exceptions=*/false);
  if (document.is_discarded()) {
    return DataLossError(context + ": the document is not valid JSON");
  }
  return document;
}

}  // namespace lifeboat
