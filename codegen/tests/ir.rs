//! IR-level assertions on the fixture specs: names, renames, Option-ness and
//! recorded constraints, read through `load`, `catalog` and `convert`.

mod common;

use common::fixture_ir;
use serde_json::json;
use skills_video_codegen::catalog::Category;
use skills_video_codegen::ir::{
    Constraint, Field, Ir, ModelIr, Role, TypeDef, TypeKind, TypeRef, Variant,
};

fn model<'a>(ir: &'a Ir, id: &str) -> &'a ModelIr {
    ir.models
        .iter()
        .find(|m| m.id == id)
        .unwrap_or_else(|| panic!("model `{id}` is in the IR"))
}

fn fields(def: &TypeDef) -> &[Field] {
    match &def.kind {
        TypeKind::Struct { fields, .. } => fields,
        other => panic!("`{}` is a struct, not {other:?}", def.name),
    }
}

fn field<'a>(def: &'a TypeDef, wire: &str) -> &'a Field {
    fields(def)
        .iter()
        .find(|f| f.wire == wire)
        .unwrap_or_else(|| panic!("`{}` has field `{wire}`", def.name))
}

fn local<'a>(m: &'a ModelIr, name: &str) -> &'a TypeDef {
    m.local_types
        .iter()
        .find(|t| t.name == name)
        .unwrap_or_else(|| panic!("`{}` defines local type `{name}`", m.id))
}

fn shared<'a>(ir: &'a Ir, name: &str) -> &'a TypeDef {
    ir.shared
        .iter()
        .find(|t| t.name == name)
        .unwrap_or_else(|| panic!("shared type `{name}` exists"))
}

fn variants(def: &TypeDef) -> Vec<(String, serde_json::Value)> {
    match &def.kind {
        TypeKind::Enum { variants } => variants
            .iter()
            .map(|Variant { rust, wire }| (rust.clone(), wire.clone()))
            .collect(),
        other => panic!("`{}` is an enum, not {other:?}", def.name),
    }
}

fn pairs(list: &[(&str, serde_json::Value)]) -> Vec<(String, serde_json::Value)> {
    list.iter()
        .map(|(r, w)| (r.to_string(), w.clone()))
        .collect()
}

// ---------- constructs ----------

#[test]
fn catalog_walks_nested_groups_and_ignores_unrelated_ones() {
    let ir = fixture_ir("constructs");
    let ids: Vec<(&str, Category)> = ir
        .models
        .iter()
        .map(|m| (m.id.as_str(), m.category))
        .collect();
    // `acme/not-a-model` sits under "Get started" and is not a model.
    assert_eq!(
        ids,
        [
            ("acme/constructs", Category::Images),
            ("acme/shapes", Category::Videos)
        ]
    );
    assert_eq!(ir.poll_route, "/generation/{id}");
    let m = model(&ir, "acme/constructs");
    assert_eq!(
        m.create_route.as_deref(),
        Some("/generation/acme/constructs")
    );
    assert_eq!(
        m.sse_route.as_deref(),
        Some("/generation/sse/acme/constructs")
    );
    assert_eq!(m.provider, "acme");
    assert_eq!(m.model, "constructs");
    assert_eq!(m.schema_name, "AcmeConstructsRequest");
    assert_eq!(m.summary, "Constructs (Acme): every schema construct");
    let shapes = model(&ir, "acme/shapes");
    assert_eq!(shapes.sse_route, None, "no SSE twin in the spec");
}

#[test]
fn required_fields_are_plain_and_optional_ones_are_options() {
    let ir = fixture_ir("constructs");
    let req = &model(&ir, "acme/constructs").request;
    assert_eq!(req.name, "AcmeConstructsRequest");
    assert_eq!(req.wire_name.as_deref(), Some("AcmeConstructsRequest"));
    assert_eq!(req.role, Role::Request);
    let prompt = field(req, "prompt");
    assert!(prompt.required && !prompt.nullable);
    assert_eq!(prompt.ty, TypeRef::String);
    let duration = field(req, "duration");
    assert!(duration.required);
    assert_eq!(duration.ty, TypeRef::Local("DurationValue".into()));
    for wire in ["negative_prompt", "seed", "style", "mask"] {
        let f = field(req, wire);
        assert!(!f.required, "{wire} is optional");
        assert!(f.nullable, "{wire} is nullable");
    }
    assert!(!field(req, "image_url").nullable);
    let required: Vec<&str> = fields(req)
        .iter()
        .filter(|f| f.required)
        .map(|f| f.wire.as_str())
        .collect();
    assert_eq!(required, ["prompt", "duration"]);
}

#[test]
fn the_three_nullable_spellings_are_the_same_option() {
    let ir = fixture_ir("constructs");
    let req = &model(&ir, "acme/constructs").request;
    // 3.0 `nullable`, 3.1 `type: [T, "null"]`, pydantic `anyOf [T, null]`.
    assert_eq!(field(req, "negative_prompt").ty, TypeRef::String);
    assert_eq!(field(req, "style").ty, TypeRef::String);
    assert_eq!(field(req, "seed").ty, TypeRef::Integer);
    assert_eq!(
        field(req, "seed").constraints,
        [Constraint::Minimum {
            value: 0.0,
            exclusive: false
        }]
    );
    assert_eq!(field(req, "style").constraints, [Constraint::MaxLength(40)]);
    // A nullable `$ref`.
    assert_eq!(field(req, "mask").ty, TypeRef::Shared("Element".into()));
}

#[test]
fn constraints_are_recorded() {
    let ir = fixture_ir("constructs");
    let req = &model(&ir, "acme/constructs").request;
    assert_eq!(
        field(req, "prompt").constraints,
        [Constraint::MinLength(1), Constraint::MaxLength(2000)]
    );
    // numeric (3.1) exclusiveMinimum
    assert_eq!(
        field(req, "guidance").constraints,
        [
            Constraint::Minimum {
                value: 0.0,
                exclusive: true
            },
            Constraint::Maximum {
                value: 20.0,
                exclusive: false
            }
        ]
    );
    // boolean (3.0) exclusiveMaximum
    assert_eq!(
        field(req, "strength").constraints,
        [
            Constraint::Minimum {
                value: 0.0,
                exclusive: false
            },
            Constraint::Maximum {
                value: 1.0,
                exclusive: true
            }
        ]
    );
    let image_url = field(req, "image_url");
    assert_eq!(image_url.constraints, [Constraint::Uri]);
    assert_eq!(image_url.format.as_deref(), Some("uri"));
    let image_urls = field(req, "image_urls");
    // A request's URI strings are media inputs: a URL or a local file.
    assert_eq!(image_urls.ty, TypeRef::Vec(Box::new(TypeRef::Media)));
    assert_eq!(
        image_urls.constraints,
        [Constraint::MinItems(1), Constraint::MaxItems(4)]
    );
    assert_eq!(image_urls.item_constraints, [Constraint::Uri]);
    assert_eq!(
        field(req, "tags").item_constraints,
        [
            Constraint::MaxLength(20),
            Constraint::Pattern("^[a-z]+$".into())
        ]
    );
    assert_eq!(
        field(req, "code").constraints,
        [Constraint::Pattern(r"^[A-Z]{3}-\d+$".into())]
    );
    assert_eq!(
        field(req, "elements").constraints,
        [Constraint::MaxItems(2)]
    );
    let shapes = &model(&ir, "acme/shapes").request;
    assert_eq!(
        field(shapes, "weights").item_constraints,
        [
            Constraint::Minimum {
                value: 0.0,
                exclusive: false
            },
            Constraint::Maximum {
                value: 1.0,
                exclusive: false
            }
        ]
    );
}

#[test]
fn defaults_examples_and_allowed_values_are_recorded() {
    let ir = fixture_ir("constructs");
    let req = &model(&ir, "acme/constructs").request;
    // `examples` arrays: the first one.
    assert_eq!(
        field(req, "prompt").example,
        Some(json!("a cat in a spacesuit"))
    );
    assert_eq!(
        field(req, "image_url").example,
        Some(json!("https://example.com/in.png"))
    );
    let ar = field(req, "aspect_ratio");
    assert_eq!(ar.default, Some(json!("auto")));
    assert_eq!(ar.allowed, [json!("16:9"), json!("1:1"), json!("auto")]);
    assert_eq!(field(req, "duration").allowed, [json!(5), json!(10)]);
    assert_eq!(field(req, "enable_safety").default, Some(json!(true)));
    assert_eq!(field(req, "prompt").docs, ["What to generate."]);
}

#[test]
fn enums_get_renamed_variants() {
    let ir = fixture_ir("constructs");
    let m = model(&ir, "acme/constructs");
    assert_eq!(
        variants(local(m, "AspectRatio")),
        pairs(&[
            ("V16_9", json!("16:9")),
            ("V1_1", json!("1:1")),
            ("Auto", json!("auto"))
        ])
    );
    assert_eq!(
        variants(local(m, "Resolution")),
        pairs(&[
            ("V0_5k", json!("0.5K")),
            ("V1k", json!("1K")),
            ("V2k", json!("2K"))
        ])
    );
    // numeric enums
    assert_eq!(
        variants(local(m, "DurationValue")),
        pairs(&[("V5", json!(5)), ("V10", json!(10))])
    );
    assert_eq!(
        variants(local(m, "CfgScale")),
        pairs(&[
            ("V0_5", json!(0.5)),
            ("V1_5", json!(1.5)),
            ("V2_5", json!(2.5))
        ])
    );
    // `const`
    assert_eq!(
        variants(local(m, "Mode")),
        pairs(&[("Fast", json!("fast"))])
    );
}

#[test]
fn nested_objects_are_named_from_their_parent() {
    let ir = fixture_ir("constructs");
    let m = model(&ir, "acme/constructs");
    let req = &m.request;
    assert_eq!(field(req, "camera").ty, TypeRef::Local("Camera".into()));
    let camera = local(m, "Camera");
    assert_eq!(
        camera.pointer,
        "#/components/schemas/AcmeConstructsRequest/properties/camera"
    );
    assert_eq!(
        field(camera, "movement").ty,
        TypeRef::Local("CameraMovement".into())
    );
    assert_eq!(
        field(camera, "lens").ty,
        TypeRef::Local("CameraLens".into())
    );
    let lens = local(m, "CameraLens");
    let fov = field(lens, "fov");
    assert!(fov.required);
    assert_eq!(fov.ty, TypeRef::Integer);
    assert_eq!(fov.constraints.len(), 2);
    let mut names: Vec<&str> = m.local_types.iter().map(|t| t.name.as_str()).collect();
    names.sort_unstable();
    assert_eq!(
        names,
        [
            "AspectRatio",
            "Camera",
            "CameraLens",
            "CameraMovement",
            "CfgScale",
            "DurationValue",
            "Mode",
            "Resolution"
        ]
    );
}

#[test]
fn arrays_maps_open_objects_and_refs() {
    let ir = fixture_ir("constructs");
    let req = &model(&ir, "acme/constructs").request;
    assert_eq!(
        field(req, "elements").ty,
        TypeRef::Vec(Box::new(TypeRef::Shared("Element".into())))
    );
    assert_eq!(field(req, "extra").ty, TypeRef::Json);
    assert_eq!(
        field(req, "metadata").ty,
        TypeRef::Map(Box::new(TypeRef::String))
    );
    assert_eq!(
        field(req, "image_size").ty,
        TypeRef::Shared("ImageSize".into())
    );
    let element = shared(&ir, "Element");
    assert_eq!(element.role, Role::Request);
    assert_eq!(
        field(element, "reference_image_urls").item_constraints,
        [Constraint::Uri]
    );
}

#[test]
fn one_of_of_different_shapes_is_untagged() {
    let ir = fixture_ir("constructs");
    let size = shared(&ir, "ImageSize");
    let TypeKind::Untagged { variants } = &size.kind else {
        panic!("ImageSize is untagged: {:?}", size.kind);
    };
    let got: Vec<(&str, &TypeRef)> = variants.iter().map(|v| (v.rust.as_str(), &v.ty)).collect();
    assert_eq!(
        got,
        [
            ("Preset", &TypeRef::Shared("ImageSizePreset".into())),
            ("Custom", &TypeRef::Shared("ImageSizeCustom".into()))
        ]
    );
    let shapes = model(&ir, "acme/shapes");
    assert_eq!(
        field(&shapes.request, "input").ty,
        TypeRef::Local("Input".into())
    );
    let TypeKind::Untagged { variants } = &local(shapes, "Input").kind else {
        panic!("Input is untagged");
    };
    let got: Vec<(&str, &TypeRef)> = variants.iter().map(|v| (v.rust.as_str(), &v.ty)).collect();
    assert_eq!(
        got,
        [
            ("Media", &TypeRef::Media),
            ("List", &TypeRef::Vec(Box::new(TypeRef::Media)))
        ]
    );
    // A schema with no type at all is truly open.
    assert_eq!(field(&shapes.request, "anything").ty, TypeRef::Json);
}

#[test]
fn shared_types_are_sorted_and_exclude_request_bodies() {
    let ir = fixture_ir("constructs");
    let names: Vec<&str> = ir.shared.iter().map(|t| t.name.as_str()).collect();
    assert_eq!(
        names,
        [
            "CreateGenerationResponse",
            "Element",
            "GenerationResponse",
            "ImageSize",
            "ImageSizeCustom",
            "ImageSizePreset",
            "QueueState"
        ]
    );
    assert_eq!(shared(&ir, "GenerationResponse").role, Role::Response);
    assert_eq!(shared(&ir, "ImageSizeCustom").role, Role::Request);
}

// ---------- awkward names ----------

#[test]
fn model_names_are_distinct_and_valid() {
    let ir = fixture_ir("awkward_names");
    let names: Vec<(&str, &str, &str)> = ir
        .models
        .iter()
        .map(|m| (m.id.as_str(), m.module.as_str(), m.request.name.as_str()))
        .collect();
    assert_eq!(
        names,
        [
            (
                "kling-ai/v3/image",
                "kling_ai_v3_image",
                "KlingAiV3ImageRequest"
            ),
            (
                "openai/gpt-image-1.5",
                "openai_gpt_image_1_5",
                "OpenaiGptImage1_5Request"
            ),
            (
                "openai/gpt-image-15",
                "openai_gpt_image_15",
                "OpenaiGptImage15Request"
            ),
            ("3d/model", "m_3d_model", "M3dModelRequest"),
            ("acme/self", "acme_self", "AcmeSelfRequest"),
            ("type", "type_", "TypeRequest"),
        ]
    );
    for m in &ir.models {
        assert_eq!(m.function, m.module);
        assert!(
            syn::parse_str::<syn::Ident>(&m.module).is_ok(),
            "{}",
            m.module
        );
        assert!(
            syn::parse_str::<syn::Ident>(&m.request.name).is_ok(),
            "{}",
            m.request.name
        );
    }
    let kling = model(&ir, "kling-ai/v3/image");
    assert_eq!(
        (kling.provider.as_str(), kling.model.as_str()),
        ("kling-ai", "v3/image")
    );
}

#[test]
fn sse_only_and_polling_only_models() {
    let ir = fixture_ir("awkward_names");
    let three_d = model(&ir, "3d/model");
    assert_eq!(three_d.create_route, None);
    assert_eq!(
        three_d.sse_route.as_deref(),
        Some("/generation/sse/3d/model")
    );
    let gpt15 = model(&ir, "openai/gpt-image-15");
    assert_eq!(
        gpt15.create_route.as_deref(),
        Some("/generation/openai/gpt-image-15")
    );
    assert_eq!(gpt15.sse_route, None);
    assert_eq!(
        model(&ir, "type").create_route.as_deref(),
        Some("/generation/type")
    );
}

#[test]
fn keyword_and_odd_field_names_are_escaped_and_renamed() {
    let ir = fixture_ir("awkward_names");
    let req = &model(&ir, "kling-ai/v3/image").request;
    let renames: Vec<(&str, &str)> = fields(req)
        .iter()
        .map(|f| (f.wire.as_str(), f.rust.as_str()))
        .collect();
    assert_eq!(
        renames,
        [
            ("prompt", "prompt"),
            ("type", "type_"),
            ("ref", "ref_"),
            ("self", "self_"),
            ("settings", "settings"),
            ("imageURL", "image_url"),
            ("1st_frame", "f_1st_frame"),
            ("new", "new"),
            ("validate", "validate"),
            ("model", "model"),
            ("default", "default"),
            ("option", "option"),
            ("result", "result"),
        ]
    );
    assert!(field(req, "type").required);
    assert_eq!(field(req, "self").ty, TypeRef::Shared("Self_".into()));
    assert_eq!(
        field(req, "settings").ty,
        TypeRef::Shared("T3dSettings".into())
    );
    let settings = shared(&ir, "T3dSettings");
    assert_eq!(settings.wire_name.as_deref(), Some("3DSettings"));
    assert_eq!(field(settings, "1st_pass").rust, "f_1st_pass");
    assert_eq!(
        field(settings, "type").ty,
        TypeRef::Shared("T3dSettingsType".into())
    );
    assert_eq!(shared(&ir, "Self_").wire_name.as_deref(), Some("self"));
}

#[test]
fn awkward_enum_values_get_unique_variants() {
    let ir = fixture_ir("awkward_names");
    let kling = model(&ir, "kling-ai/v3/image");
    assert_eq!(
        variants(local(kling, "Type")),
        pairs(&[
            ("V16_9", json!("16:9")),
            ("V1_1", json!("1:1")),
            ("V0_5k", json!("0.5K")),
            ("Auto", json!("auto")),
            ("Neg1", json!("-1")),
            ("V1", json!("1")),
            ("V9_16", json!("9:16")),
            ("Self_", json!("Self")),
            ("Empty", json!("")),
        ])
    );
    let gpt = model(&ir, "openai/gpt-image-1.5");
    assert_eq!(
        variants(local(gpt, "Quality")),
        pairs(&[
            ("Neg1", json!(-1)),
            ("V0", json!(0)),
            ("V1", json!(1)),
            ("V2", json!(2))
        ])
    );
    assert_eq!(
        variants(local(gpt, "Level")),
        pairs(&[
            ("Neg9223372036854775808", json!(i64::MIN)),
            ("V0", json!(0)),
            ("V4294967296", json!(4_294_967_296i64)),
            ("V9223372036854775807", json!(i64::MAX))
        ])
    );
    assert_eq!(
        variants(local(gpt, "SeedMode")),
        pairs(&[("Neg1", json!(-1)), ("V1", json!(1))])
    );
}

// ---------- model-scoped spec ----------

#[test]
fn model_scoped_routes_are_relative_to_the_api_base() {
    let ir = fixture_ir("model_scoped");
    assert_eq!(ir.poll_route, "/generation/{request_id}");
    let ids: Vec<(&str, Category)> = ir
        .models
        .iter()
        .map(|m| (m.id.as_str(), m.category))
        .collect();
    assert_eq!(
        ids,
        [
            ("acme/video", Category::Videos),
            ("acme/still", Category::Images)
        ]
    );
    let video = model(&ir, "acme/video");
    assert_eq!(
        video.create_route.as_deref(),
        Some("/generation/acme/video")
    );
    assert_eq!(
        video.sse_route.as_deref(),
        Some("/generation/sse/acme/video")
    );
    assert_eq!(video.schema_name, "AcmeVideoInput");
    assert_eq!(video.request.name, "AcmeVideoRequest");
    assert_eq!(model(&ir, "acme/still").sse_route, None);
}

#[test]
fn model_scoped_nullables_are_options_with_their_rules() {
    let ir = fixture_ir("model_scoped");
    let video = model(&ir, "acme/video");
    let req = &video.request;
    let image_url = field(req, "image_url");
    assert!(image_url.nullable && !image_url.required);
    assert_eq!(image_url.ty, TypeRef::Media);
    assert_eq!(
        image_url.constraints,
        [
            Constraint::MinLength(1),
            Constraint::MaxLength(2083),
            Constraint::Uri
        ]
    );
    let seed = field(req, "seed");
    assert!(seed.nullable);
    assert_eq!(seed.ty, TypeRef::Integer);
    let refs = field(req, "reference_urls");
    assert!(refs.nullable);
    assert_eq!(refs.ty, TypeRef::Vec(Box::new(TypeRef::Media)));
    assert_eq!(refs.constraints, [Constraint::MaxItems(4)]);
    assert_eq!(refs.item_constraints, [Constraint::Uri]);
    let camera = field(req, "camera_control");
    assert!(camera.nullable);
    assert_eq!(camera.ty, TypeRef::Shared("CameraControl".into()));
    let cfg = field(req, "cfg_scale");
    assert_eq!(
        cfg.constraints[0],
        Constraint::Minimum {
            value: 0.0,
            exclusive: true
        }
    );
    assert_eq!(cfg.example, Some(json!(0.5)));
    assert_eq!(
        variants(local(video, "DurationValue")),
        pairs(&[("V5", json!("5")), ("V10", json!("10"))])
    );
    // `const` in a shared schema, required.
    let control = shared(&ir, "CameraControl");
    assert!(field(control, "type").required);
    assert_eq!(
        variants(shared(&ir, "CameraControlType")),
        pairs(&[("Simple", json!("simple"))])
    );
    // Title-only fields document themselves with the title.
    assert_eq!(field(req, "prompt").docs, ["Prompt"]);
    let still = model(&ir, "acme/still");
    let checker = field(&still.request, "enable_safety_checker");
    assert!(checker.nullable);
    assert_eq!(checker.ty, TypeRef::Boolean);
    assert_eq!(checker.default, Some(json!(true)));
    assert_eq!(field(&still.request, "num_images").example, Some(json!(1)));
}
