// Public surface of src/build (base root filesystems, the image builder, the processor bundler, Build & Pin's
// build half and its cross-architecture check): explicit named re-exports, one block per module.
export { REGISTRY_MODULE_PREFIX, bundleProcessor, embeddedSpec, type BundleOptions } from './bundle';
export { baseCacheDir, buildBaseLayer, type BaseLayer } from './base-rootfs';
export { appLayer, buildProcessorImage, indexBytes, pushImage, type BuiltImage } from './image-builder';
export { buildAndPush, compareBuildToPins, type BuildOptions, type BuildReport } from './build-push';
export { verifyBuilds, type ImageRunner, type VerifyResult } from './verify-image';
