// Tokenizer and recursive-descent parser of the expression language (grammar in expr.h).
#include <cctype>
#include <cerrno>
#include <cstdlib>
#include <algorithm>
#include <optional>
#include <utility>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/ascii.h"
#include "absl/strings/cord.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "engine/ops/expr.h"
#include "engine/ops/expr_ast.h"

namespace de::engine {
namespace {

constexpr absl::string_view kColumnPayload = "type.googleapis.com/de.engine.ExprErrorColumn";
constexpr int kMaxDepth = 200;       // parentheses, `not` and unary `-` nested in each other
constexpr int kMaxTreeDepth = 1000;  // operators chained (a + a + ... or x = 1 or x = 2 ...)

enum class Tok { kIdent, kQuotedIdent, kNumber, kString, kOp, kLParen, kRParen, kComma, kEnd };

struct Token {
  Tok kind = Tok::kEnd;
  std::string value;   // identifier, unquoted string, number text, operator
  size_t begin = 0;    // byte offsets in the source
  size_t end = 0;
};

// 1-based column in characters (UTF-8 continuation bytes do not count).
int ColumnOf(std::string_view src, size_t offset) {
  int col = 1;
  for (size_t i = 0; i < offset && i < src.size(); ++i) {
    if ((static_cast<unsigned char>(src[i]) & 0xC0) != 0x80) ++col;
  }
  return col;
}

bool IsOpChar(char c) { return c == '=' || c == '<' || c == '>' || c == '!'; }

class Lexer {
 public:
  Lexer(std::string_view src, std::string_view what) : src_(src), what_(what) {}

  absl::Status Run(std::vector<Token>* out) {
    size_t i = 0;
    while (true) {
      while (i < src_.size() && absl::ascii_isspace(static_cast<unsigned char>(src_[i]))) ++i;
      Token t;
      t.begin = i;
      if (i == src_.size()) {
        t.kind = Tok::kEnd;
        t.end = i;
        out->push_back(std::move(t));
        return absl::OkStatus();
      }
      char c = src_[i];
      if (absl::ascii_isalpha(static_cast<unsigned char>(c)) || c == '_') {
        size_t j = i;
        while (j < src_.size() && (absl::ascii_isalnum(static_cast<unsigned char>(src_[j])) ||
                                   src_[j] == '_')) {
          ++j;
        }
        t.kind = Tok::kIdent;
        t.value = std::string(src_.substr(i, j - i));
        i = j;
      } else if (absl::ascii_isdigit(static_cast<unsigned char>(c)) ||
                 (c == '.' && i + 1 < src_.size() &&
                  absl::ascii_isdigit(static_cast<unsigned char>(src_[i + 1])))) {
        i = LexNumber(i, &t);
      } else if (c == '\'' || c == '"') {
        absl::Status st = LexQuoted(&i, &t);
        if (!st.ok()) return st;
      } else if (IsOpChar(c)) {
        size_t j = i;
        while (j < src_.size() && IsOpChar(src_[j])) ++j;
        std::string op(src_.substr(i, j - i));
        if (op != "=" && op != "==" && op != "!=" && op != "<>" && op != "<" && op != "<=" &&
            op != ">" && op != ">=") {
          return ExprErrorAt(what_, ColumnOf(src_, i), absl::StrCat("unknown operator '", op, "'"));
        }
        t.kind = Tok::kOp;
        t.value = std::move(op);
        i = j;
      } else if (c == '+' || c == '-' || c == '*' || c == '/' || c == '%') {
        t.kind = Tok::kOp;
        t.value = std::string(1, c);
        ++i;
      } else if (c == '(' || c == ')' || c == ',') {
        t.kind = c == '(' ? Tok::kLParen : c == ')' ? Tok::kRParen : Tok::kComma;
        t.value = std::string(1, c);
        ++i;
      } else {
        std::string shown = (static_cast<unsigned char>(c) < 0x20) ? "control character"
                                                                   : absl::StrCat("'", std::string(1, c), "'");
        return ExprErrorAt(what_, ColumnOf(src_, i), absl::StrCat("unexpected character ", shown));
      }
      t.end = i;
      out->push_back(std::move(t));
    }
  }

 private:
  size_t LexNumber(size_t i, Token* t) {
    size_t j = i;
    auto digits = [&] {
      while (j < src_.size() && absl::ascii_isdigit(static_cast<unsigned char>(src_[j]))) ++j;
    };
    digits();
    if (j < src_.size() && src_[j] == '.') {
      ++j;
      digits();
    }
    if (j < src_.size() && (src_[j] == 'e' || src_[j] == 'E')) {
      size_t k = j + 1;
      if (k < src_.size() && (src_[k] == '+' || src_[k] == '-')) ++k;
      if (k < src_.size() && absl::ascii_isdigit(static_cast<unsigned char>(src_[k]))) {
        j = k;
        digits();
      }
    }
    t->kind = Tok::kNumber;
    t->value = std::string(src_.substr(i, j - i));
    return j;
  }

  absl::Status LexQuoted(size_t* pos, Token* t) {
    size_t i = *pos;
    char q = src_[i];
    std::string value;
    size_t j = i + 1;
    while (true) {
      if (j >= src_.size()) {
        return ExprErrorAt(what_, ColumnOf(src_, i),
                           q == '\'' ? "unterminated string" : "unterminated quoted column name");
      }
      if (src_[j] == q) {
        if (j + 1 < src_.size() && src_[j + 1] == q) {  // doubled quote = one quote
          value.push_back(q);
          j += 2;
          continue;
        }
        ++j;
        break;
      }
      value.push_back(src_[j++]);
    }
    t->kind = q == '\'' ? Tok::kString : Tok::kQuotedIdent;
    t->value = std::move(value);
    if (t->kind == Tok::kQuotedIdent && t->value.empty()) {
      return ExprErrorAt(what_, ColumnOf(src_, i), "empty quoted column name");
    }
    *pos = j;
    return absl::OkStatus();
  }

  std::string_view src_;
  std::string_view what_;
};

using Node = std::shared_ptr<Expr>;
using NodeOr = absl::StatusOr<Node>;

class Parser {
 public:
  Parser(std::shared_ptr<const std::string> source, std::string_view what,
         std::vector<Token> toks)
      : source_(std::move(source)), src_(*source_), what_(what), toks_(std::move(toks)) {}

  NodeOr Run() {
    NodeOr e = Or();
    if (!e.ok()) return e;
    if (Peek().kind != Tok::kEnd) {
      return Error(Peek(), absl::StrCat("unexpected ", Describe(Peek()), " after the expression"));
    }
    return e;
  }

 private:
  const Token& Peek(size_t ahead = 0) const {
    size_t k = std::min(pos_ + ahead, toks_.size() - 1);
    return toks_[k];
  }
  const Token& Next() {
    const Token& t = toks_[pos_];
    if (pos_ + 1 < toks_.size()) ++pos_;
    prev_end_ = t.end;
    return t;
  }
  bool IsKeyword(const Token& t, std::string_view kw) const {
    if (t.kind != Tok::kIdent || t.value.size() != kw.size()) return false;
    for (size_t i = 0; i < kw.size(); ++i) {
      if (absl::ascii_tolower(static_cast<unsigned char>(t.value[i])) != kw[i]) return false;
    }
    return true;
  }
  bool AcceptKeyword(std::string_view kw) {
    if (!IsKeyword(Peek(), kw)) return false;
    Next();
    return true;
  }
  static std::string Describe(const Token& t) {
    switch (t.kind) {
      case Tok::kEnd: return "end of expression";
      case Tok::kString: return absl::StrCat("string '", t.value, "'");
      case Tok::kQuotedIdent: return absl::StrCat("\"", t.value, "\"");
      default: return absl::StrCat("'", t.value, "'");
    }
  }
  absl::Status Error(const Token& t, std::string_view message) const {
    return ExprErrorAt(what_, ColumnOf(src_, t.begin), message);
  }
  absl::Status Expected(std::string_view what_expected) const {
    return Error(Peek(), absl::StrCat("expected ", std::string(what_expected), " but found ",
                                     Describe(Peek())));
  }
  // A new operator node; an error when the tree gets too deep to walk recursively.
  NodeOr Make(ExprOp op, size_t begin, std::vector<std::shared_ptr<const Expr>> args,
              bool negated = false) const {
    auto e = std::make_shared<Expr>();
    e->op = op;
    e->negated = negated;
    e->args = std::move(args);
    for (const auto& a : e->args) e->depth = std::max(e->depth, a->depth + 1);
    Finish(e.get(), begin);
    if (e->depth > kMaxTreeDepth) {
      return ExprErrorAt(what_, e->column, "expression too long or nested too deeply");
    }
    return e;
  }
  void Finish(Expr* e, size_t begin) const {
    e->column = ColumnOf(src_, begin);
    e->offset = begin;
    e->length = prev_end_ - begin;
    e->source = source_;
  }
  static size_t BeginOf(const Expr& e) { return e.offset; }

  NodeOr Or() {
    if (++depth_ > kMaxDepth) return Error(Peek(), "expression nested too deeply");
    NodeOr left = And();
    while (left.ok() && AcceptKeyword("or")) {
      NodeOr right = And();
      if (!right.ok()) return right;
      left = Make(ExprOp::kOr, BeginOf(**left), {*left, *right});
    }
    --depth_;
    return left;
  }
  NodeOr And() {
    NodeOr left = Not();
    while (left.ok() && AcceptKeyword("and")) {
      NodeOr right = Not();
      if (!right.ok()) return right;
      left = Make(ExprOp::kAnd, BeginOf(**left), {*left, *right});
    }
    return left;
  }
  NodeOr Not() {
    if (IsKeyword(Peek(), "not")) {
      size_t begin = Next().begin;
      if (++depth_ > kMaxDepth) return Error(Peek(), "expression nested too deeply");
      NodeOr inner = Not();
      --depth_;
      if (!inner.ok()) return inner;
      return Make(ExprOp::kNot, begin, {*inner});
    }
    return Cmp();
  }

  static bool CmpOp(std::string_view s, ExprOp* op) {
    if (s == "=" || s == "==") *op = ExprOp::kEq;
    else if (s == "!=" || s == "<>") *op = ExprOp::kNe;
    else if (s == "<") *op = ExprOp::kLt;
    else if (s == "<=") *op = ExprOp::kLe;
    else if (s == ">") *op = ExprOp::kGt;
    else if (s == ">=") *op = ExprOp::kGe;
    else return false;
    return true;
  }

  NodeOr Cmp() {
    NodeOr left = Add();
    if (!left.ok()) return left;
    size_t begin = BeginOf(**left);
    ExprOp op;
    if (Peek().kind == Tok::kOp && CmpOp(Peek().value, &op)) {
      Next();
      NodeOr right = Add();
      if (!right.ok()) return right;
      return Make(op, begin, {*left, *right});
    }
    if (AcceptKeyword("is")) {
      bool neg = AcceptKeyword("not");
      if (!AcceptKeyword("null")) return Expected("'null'");
      return Make(ExprOp::kIsNull, begin, {*left}, neg);
    }
    bool neg = false;
    if (IsKeyword(Peek(), "not") && (IsKeyword(Peek(1), "in") || IsKeyword(Peek(1), "like") ||
                                     IsKeyword(Peek(1), "between"))) {
      Next();
      neg = true;
    }
    if (AcceptKeyword("in")) return In(*left, begin, neg);
    if (AcceptKeyword("like")) {
      if (Peek().kind != Tok::kString) return Expected("a 'pattern' string");
      std::string pattern = Next().value;
      NodeOr e = Make(ExprOp::kLike, begin, {*left}, neg);
      if (!e.ok()) return e;
      (*e)->lit.kind = ExprLiteral::Kind::kString;
      (*e)->lit.s = std::move(pattern);
      return e;
    }
    if (AcceptKeyword("between")) {
      NodeOr lo = Add();
      if (!lo.ok()) return lo;
      if (!AcceptKeyword("and")) return Expected("'and' of between");
      NodeOr hi = Add();
      if (!hi.ok()) return hi;
      return Make(ExprOp::kBetween, begin, {*left, *lo, *hi}, neg);
    }
    return left;
  }

  NodeOr In(Node left, size_t begin, bool neg) {
    if (Peek().kind != Tok::kLParen) return Expected("'(' after in");
    Next();
    std::vector<std::shared_ptr<const Expr>> args{left};
    while (true) {
      NodeOr v = Unary();
      if (!v.ok()) return v;
      if ((*v)->op != ExprOp::kLiteral) {
        return ExprErrorAt(what_, (*v)->column,
                           absl::StrCat("the values of in (...) must be literals, not '",
                                        (*v)->text(), "'"));
      }
      args.push_back(*v);
      if (Peek().kind == Tok::kComma) {
        Next();
        continue;
      }
      if (Peek().kind == Tok::kRParen) {
        Next();
        break;
      }
      return Expected("',' or ')'");
    }
    return Make(ExprOp::kIn, begin, std::move(args), neg);
  }

  NodeOr Add() {
    NodeOr left = Mul();
    while (left.ok() && Peek().kind == Tok::kOp && (Peek().value == "+" || Peek().value == "-")) {
      ExprOp op = Next().value == "+" ? ExprOp::kAdd : ExprOp::kSub;
      NodeOr right = Mul();
      if (!right.ok()) return right;
      left = Make(op, BeginOf(**left), {*left, *right});
    }
    return left;
  }
  NodeOr Mul() {
    NodeOr left = Unary();
    while (left.ok() && Peek().kind == Tok::kOp &&
           (Peek().value == "*" || Peek().value == "/" || Peek().value == "%")) {
      char c = Next().value[0];
      ExprOp op = c == '*' ? ExprOp::kMul : c == '/' ? ExprOp::kDiv : ExprOp::kMod;
      NodeOr right = Unary();
      if (!right.ok()) return right;
      left = Make(op, BeginOf(**left), {*left, *right});
    }
    return left;
  }
  NodeOr Unary() {
    if (Peek().kind == Tok::kOp && Peek().value == "-") {
      size_t begin = Next().begin;
      if (Peek().kind == Tok::kNumber) return Number(begin, /*negative=*/true);
      if (++depth_ > kMaxDepth) return Error(Peek(), "expression nested too deeply");
      NodeOr inner = Unary();
      --depth_;
      if (!inner.ok()) return inner;
      return Make(ExprOp::kNeg, begin, {*inner});
    }
    return Primary();
  }

  NodeOr Number(size_t begin, bool negative) {
    const Token& t = Next();
    auto e = std::make_shared<Expr>();
    e->op = ExprOp::kLiteral;
    bool is_double = t.value.find_first_of(".eE") != std::string::npos;
    if (!is_double) {
      uint64_t u = 0;
      if (!absl::SimpleAtoi(t.value, &u) || u > (negative ? (uint64_t{1} << 63) : (uint64_t{1} << 63) - 1)) {
        return Error(t, absl::StrCat("integer ", negative ? "-" : "", t.value,
                                     " is out of the int64 range"));
      }
      e->lit.kind = ExprLiteral::Kind::kInt;
      e->lit.i = negative ? static_cast<int64_t>(0 - u) : static_cast<int64_t>(u);
    } else {
      double d = 0;
      if (!absl::SimpleAtod(t.value, &d)) return Error(t, absl::StrCat("bad number '", t.value, "'"));
      e->lit.kind = ExprLiteral::Kind::kDouble;
      e->lit.d = negative ? -d : d;
    }
    Finish(e.get(), begin);
    return e;
  }

  NodeOr Primary() {
    const Token& t = Peek();
    size_t begin = t.begin;
    switch (t.kind) {
      case Tok::kNumber:
        return Number(begin, false);
      case Tok::kString:
        return Literal(begin, ExprLiteral::Kind::kString, Next().value);
      case Tok::kQuotedIdent:
        return Column(begin, Next().value);
      case Tok::kLParen: {
        Next();
        NodeOr inner = Or();
        if (!inner.ok()) return inner;
        if (Peek().kind != Tok::kRParen) return Expected("')'");
        Next();
        // Keep the parenthesised text so messages quote what the user wrote.
        Node e = std::make_shared<Expr>(**inner);
        Finish(e.get(), begin);
        return e;
      }
      case Tok::kIdent:
        return Word(begin);
      case Tok::kEnd:
        return Error(t, "unexpected end of expression");
      default:
        return Error(t, absl::StrCat("expected a value but found ", Describe(t)));
    }
  }

  NodeOr Word(size_t begin) {
    const Token& t = Peek();
    if (IsKeyword(t, "true") || IsKeyword(t, "false")) {
      bool v = IsKeyword(t, "true");
      Next();
      Node e = Literal(begin, ExprLiteral::Kind::kBool, "");
      e->lit.b = v;
      return e;
    }
    if (IsKeyword(t, "null")) {
      Next();
      return Literal(begin, ExprLiteral::Kind::kNull, "");
    }
    if ((IsKeyword(t, "date") || IsKeyword(t, "timestamp")) && Peek(1).kind == Tok::kString) {
      bool is_date = IsKeyword(t, "date");
      Next();
      const Token& s = Next();
      int64_t v = 0;
      if (is_date ? !ParseExprDate(s.value, &v) : !ParseExprTimestamp(s.value, &v)) {
        return Error(s, absl::StrCat("invalid ", is_date ? "date" : "timestamp", " '", s.value,
                                     "' (expected ", is_date ? "YYYY-MM-DD" : "YYYY-MM-DD HH:MM:SS",
                                     ")"));
      }
      Node e = Literal(begin, is_date ? ExprLiteral::Kind::kDate : ExprLiteral::Kind::kTimestamp, "");
      e->lit.i = v;
      return e;
    }
    static constexpr std::string_view kReserved[] = {"and", "or",   "not",     "in",
                                                     "is",  "like", "between"};
    for (std::string_view kw : kReserved) {
      if (IsKeyword(t, kw)) {
        return Error(t, absl::StrCat("expected a value but found '", t.value,
                                     "' (quote a column named like a keyword: \"", t.value, "\")"));
      }
    }
    if (Peek(1).kind == Tok::kLParen) {
      return Error(t, absl::StrCat("unknown function '", t.value, "' (the language has none)"));
    }
    return Column(begin, Next().value);
  }

  Node Literal(size_t begin, ExprLiteral::Kind kind, std::string s) {
    auto e = std::make_shared<Expr>();
    e->op = ExprOp::kLiteral;
    e->lit.kind = kind;
    e->lit.s = std::move(s);
    Finish(e.get(), begin);
    return e;
  }
  Node Column(size_t begin, std::string name) {
    auto e = std::make_shared<Expr>();
    e->op = ExprOp::kColumn;
    e->name = std::move(name);
    Finish(e.get(), begin);
    return e;
  }

  std::shared_ptr<const std::string> source_;
  std::string_view src_;
  std::string_view what_;
  std::vector<Token> toks_;
  size_t pos_ = 0;
  size_t prev_end_ = 0;
  int depth_ = 0;
};

void CollectColumns(const Expr& e, std::vector<std::string>* out) {
  if (e.op == ExprOp::kColumn) {
    for (const auto& n : *out) {
      if (n == e.name) return;
    }
    out->push_back(e.name);
  }
  for (const auto& a : e.args) CollectColumns(*a, out);
}

}  // namespace

absl::Status ExprErrorQuiet(std::string_view what, int col, std::string_view message) {
  absl::Status st =
      absl::InvalidArgumentError(absl::StrCat(std::string(what), ": ", std::string(message)));
  st.SetPayload(kColumnPayload, absl::Cord(std::to_string(col)));
  return st;
}

absl::Status ExprErrorAt(std::string_view what, int col, std::string_view message) {
  absl::Status st =
      absl::InvalidArgumentError(absl::StrCat(std::string(what), ": column ", col, ": ",
                                              std::string(message)));
  st.SetPayload(kColumnPayload, absl::Cord(std::to_string(col)));
  return st;
}

int ExprErrorColumn(const absl::Status& error) {
  if (error.ok()) return 0;
  absl::optional<absl::Cord> p = error.GetPayload(kColumnPayload);
  int col = 0;
  if (p.has_value() && absl::SimpleAtoi(std::string(*p), &col)) return col;
  // Fallback: "<what>: column N: ..." in the message (the payload may have been dropped).
  std::string_view m(error.message().data(), error.message().size());
  size_t k = m.find(": column ");
  if (k == std::string_view::npos) return 0;
  m.remove_prefix(k + 9);
  size_t colon = m.find(':');
  if (colon != std::string_view::npos && absl::SimpleAtoi(std::string(m.substr(0, colon)), &col)) return col;
  return 0;
}

absl::StatusOr<std::shared_ptr<const Expr>> ParseExpr(std::string_view text,
                                                      std::string_view what) {
  auto source = std::make_shared<const std::string>(text);
  std::vector<Token> toks;
  Lexer lexer(*source, what);
  absl::Status st = lexer.Run(&toks);
  if (!st.ok()) return st;
  Parser parser(source, what, std::move(toks));
  NodeOr e = parser.Run();
  if (!e.ok()) return e.status();
  return std::shared_ptr<const Expr>(std::move(*e));
}

std::vector<std::string> ReferencedColumns(const Expr& e) {
  std::vector<std::string> out;
  CollectColumns(e, &out);
  return out;
}

}  // namespace de::engine
