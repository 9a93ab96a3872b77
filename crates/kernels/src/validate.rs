//! naga validation of WGSL modules and of the override constants the launchers use, so a bad
//! shader fails in a unit test (with naga's message) rather than at a user's first dispatch.

use crate::{Constants, KernelError, Result, Shader};

/// Parses and validates WGSL text with every capability wgtrain may request.
pub fn validate_wgsl(shader: &'static str, text: &str) -> Result<(naga::Module, naga::valid::ModuleInfo)> {
    let module = naga::front::wgsl::parse_str(text)
        .map_err(|e| KernelError::Parse { shader, message: e.emit_to_string(text) })?;
    let info = naga::valid::Validator::new(naga::valid::ValidationFlags::all(), naga::valid::Capabilities::all())
        .validate(&module)
        .map_err(|e| KernelError::Validate { shader, message: e.emit_to_string(text) })?;
    Ok((module, info))
}

/// Validates a built-in module as it is compiled (shared cores included).
pub fn validate_shader(shader: Shader) -> Result<(naga::Module, naga::valid::ModuleInfo)> {
    validate_wgsl(shader.name(), &shader.source())
}

/// Resolves `constants` for `entry` of `shader`, as pipeline creation will.
pub fn resolve_overrides(shader: Shader, entry: &'static str, constants: &Constants) -> Result<()> {
    let (module, info) = validate_shader(shader)?;
    let map: naga::back::PipelineConstants =
        constants.pairs().iter().map(|&(k, v)| (k.to_string(), v as f64)).collect();
    naga::back::pipeline_constants::process_overrides(&module, &info, Some((naga::ShaderStage::Compute, entry)), &map)
        .map(|_| ())
        .map_err(|e| KernelError::Overrides {
            shader: shader.name(),
            entry,
            constants: format!("{:?}", constants.pairs()),
            message: e.to_string(),
        })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ops::{conv, matmul, tiles::GemmTiles};
    use crate::source::FILES;

    #[test]
    fn every_module_parses_and_validates() {
        assert!(!Shader::ALL.is_empty());
        for &s in Shader::ALL {
            if let Err(e) = validate_shader(s) {
                panic!("{e}");
            }
        }
    }

    #[test]
    fn every_wgsl_file_on_disk_is_embedded_and_used_by_a_module() {
        let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("shaders");
        let mut on_disk: Vec<String> = ["", "cpu/"]
            .iter()
            .flat_map(|sub| {
                std::fs::read_dir(dir.join(sub))
                    .expect("shaders/ and shaders/cpu/ are readable")
                    .filter_map(move |e| e.ok().map(|e| format!("{sub}{}", e.file_name().to_string_lossy())))
            })
            .filter(|n| n.ends_with(".wgsl"))
            .collect();
        on_disk.sort();
        assert!(!on_disk.is_empty(), "no .wgsl files found in {}", dir.display());
        let mut embedded: Vec<String> = FILES.iter().map(|(n, _)| n.to_string()).collect();
        embedded.sort();
        assert_eq!(on_disk, embedded, "source.rs FILES must list exactly the files in shaders/ and shaders/cpu/");
        for (name, text) in FILES {
            assert!(
                Shader::ALL.iter().any(|s| s.parts().iter().any(|p| p == text)),
                "{name} is embedded but no module uses it"
            );
            let on_disk = std::fs::read_to_string(dir.join(name)).expect("readable");
            assert_eq!(&on_disk, text, "{name}: embedded text differs from the file");
        }
    }

    #[test]
    fn only_the_software_adapter_wing_reads_textures() {
        for &s in Shader::ALL {
            let reads_textures = s.source().contains("texture_storage_2d");
            assert!(!reads_textures || s.is_cpu_wing(), "{}: texture reads belong in shaders/cpu/", s.name());
        }
    }

    #[test]
    fn gemm_tile_constants_resolve_for_every_gemm_entry_point() {
        let t = GemmTiles::choose(256, 16384);
        let gemms = [&matmul::MATMUL, &conv::FORWARD, &conv::GRAD_INPUT, &conv::GRAD_WEIGHT];
        for k in gemms.into_iter().flat_map(|g| g.all()).chain([&conv::SPLITK_SUM]) {
            if let Err(e) = resolve_overrides(k.shader, k.entry, &t.constants()) {
                panic!("{e}");
            }
        }
    }

    #[test]
    fn optimizer_guard_constants_resolve() {
        use crate::ops::optim::{ADAGRAD, ADAM, ADAM_TEXTURE, ADAM4, RMSPROP, SGD_MOMENTUM, SGD_PLAIN};
        let updates = [&SGD_PLAIN, &SGD_MOMENTUM, &ADAM, &ADAM4, &RMSPROP, &ADAGRAD];
        for k in updates.into_iter().flat_map(|u| u.all()).chain([&ADAM_TEXTURE]) {
            for guarded in [0, 1] {
                if let Err(e) = resolve_overrides(k.shader, k.entry, &Constants::new(&[("GUARDED", guarded)])) {
                    panic!("{e}");
                }
            }
        }
    }

    #[test]
    fn cpu_gemm_constants_resolve() {
        use crate::cpu::gemm_uniform::{GEMM, PACK, WG};
        use crate::cpu::{conv_im2col, gemm_texture};
        let epilogue = Constants::new(&[("WG", WG), ("FIRST", 0), ("LAST", 1), ("BIAS", 2), ("ACT", 7)]);
        let texture =
            Constants::new(&[("WG", 8), ("CG", 2), ("FIRST", 0), ("A_KC", 0), ("B_KC", 1), ("BIAS", 2), ("ACT", 7)]);
        for (k, c) in [
            (&GEMM, epilogue),
            (&PACK, Constants::default()),
            (&conv_im2col::PACK, Constants::new(&[("MODE", 3)])),
            (&gemm_texture::GEMM, texture),
            (&gemm_texture::SPLIT_SUM, Constants::new(&[("ACCUMULATE", 1)])),
        ] {
            if let Err(e) = resolve_overrides(k.shader, k.entry, &c) {
                panic!("{e}");
            }
        }
    }

    /// No adapter here has cooperative matrices, so the modules on them are also compiled to
    /// SPIR-V, as wgpu's Vulkan backend compiles them: a construct naga validates but cannot
    /// emit (a cooperative load from workgroup memory, say) fails here, not on a user's GPU.
    #[test]
    fn cooperative_matrix_modules_compile_to_spirv() {
        let coop: Vec<Shader> = Shader::ALL.iter().copied().filter(|s| s.needs_coop()).collect();
        assert_eq!(coop.len(), 2, "the f16 -> f16 and f16 -> f32 matmuls");
        for s in coop {
            let (module, info) = validate_shader(s).unwrap();
            let options = naga::back::spv::Options { lang_version: (1, 6), ..Default::default() };
            let entry = naga::back::spv::PipelineOptions {
                shader_stage: naga::ShaderStage::Compute,
                entry_point: crate::ops::matmul::MATMUL_COOP.f16.entry.to_string(),
            };
            let words = naga::back::spv::write_vec(&module, &info, &options, Some(&entry))
                .unwrap_or_else(|e| panic!("{}: {e}", s.name()));
            assert!(words.len() > 100, "{}: {} SPIR-V words", s.name(), words.len());
        }
    }

    #[test]
    fn a_broken_shader_is_reported_with_its_name() {
        let e = validate_wgsl("broken.wgsl", "fn f() -> u32 { return 1.0; }").unwrap_err();
        let msg = e.to_string();
        assert!(msg.contains("broken.wgsl") && msg.contains("cannot convert"), "{msg}");
        let e = validate_wgsl("syntax.wgsl", "fn f( {").unwrap_err();
        assert!(e.to_string().contains("syntax.wgsl: WGSL parse error"), "{e}");
    }
}
