// Renders the OpenAPI document as a list of operations grouped by tag, with their
// parameters, request body and responses. No dependencies; text is inserted as text.
"use strict";

function el(tag, text, className) {
  const node = document.createElement(tag);
  if (text !== undefined) node.textContent = text;
  if (className) node.className = className;
  return node;
}

function schemaName(schema) {
  if (!schema) return "";
  if (schema.$ref) return schema.$ref.split("/").pop();
  if (schema.type === "array") return schemaName(schema.items) + "[]";
  if (schema.enum) return schema.enum.join(" | ");
  if (schema.oneOf) return schema.oneOf.map(schemaName).join(" | ");
  return schema.type || "object";
}

function bodySchema(content) {
  const json = content && content["application/json"];
  return json ? schemaName(json.schema) : "";
}

function operation(method, path, op) {
  const details = el("details", undefined, "operation");
  details.dataset.search = (method + " " + path + " " + (op.summary || "") + " " + (op.tags || []).join(" ")).toLowerCase();
  const summary = el("summary");
  summary.append(el("span", method.toUpperCase(), "method " + method), " ", el("code", path), " ", el("span", op.summary || "", "summary"));
  details.append(summary);
  if (op.description) details.append(el("p", op.description));
  const params = op.parameters || [];
  if (params.length) {
    const table = el("table");
    const head = el("tr");
    ["parameter", "in", "type", "required", "meaning"].forEach((h) => head.append(el("th", h)));
    table.append(head);
    params.forEach((p) => {
      const row = el("tr");
      [p.name, p.in, schemaName(p.schema), p.required ? "yes" : "no", p.description || ""].forEach((c) => row.append(el("td", c)));
      table.append(row);
    });
    details.append(table);
  }
  if (op.requestBody) details.append(el("p", "Body: " + bodySchema(op.requestBody.content)));
  const responses = el("ul");
  Object.entries(op.responses || {}).forEach(([status, r]) => {
    responses.append(el("li", status + (r.content ? " " + bodySchema(r.content) : "") + (r.description ? ": " + r.description : "")));
  });
  details.append(responses);
  return details;
}

async function render() {
  const target = document.getElementById("operations");
  let doc;
  try {
    const response = await fetch("/api/openapi.json");
    doc = await response.json();
  } catch (error) {
    target.replaceChildren(el("p", "The document could not be loaded: " + error));
    return;
  }
  const byTag = new Map();
  Object.entries(doc.paths || {}).forEach(([path, item]) => {
    Object.entries(item).forEach(([method, op]) => {
      if (!op || typeof op !== "object" || !op.responses) return;
      const tag = (op.tags && op.tags[0]) || "other";
      if (!byTag.has(tag)) byTag.set(tag, []);
      byTag.get(tag).push(operation(method, path, op));
    });
  });
  const sections = [...byTag.entries()].sort(([a], [b]) => a.localeCompare(b)).map(([tag, ops]) => {
    const section = el("section");
    section.append(el("h2", tag), ...ops);
    return section;
  });
  target.replaceChildren(...sections);
  document.getElementById("filter").addEventListener("input", (event) => {
    const words = event.target.value.toLowerCase().split(/\s+/).filter(Boolean);
    document.querySelectorAll(".operation").forEach((op) => {
      op.hidden = !words.every((w) => op.dataset.search.includes(w));
    });
  });
}

render();
