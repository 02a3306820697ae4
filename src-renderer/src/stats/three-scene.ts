/** The lit three.js scene both 3D statistics views start from (WebGL, read-back enabled for tests). */
import * as THREE from 'three';

export const SCENE_BACKGROUND = 0x111317;

export function litScene(host: HTMLElement, ambient = 1.6): { renderer: THREE.WebGLRenderer; scene: THREE.Scene } {
  const renderer = new THREE.WebGLRenderer({ antialias: true, preserveDrawingBuffer: true });
  renderer.setPixelRatio(Math.min(window.devicePixelRatio, 2));
  renderer.setClearColor(SCENE_BACKGROUND);
  host.appendChild(renderer.domElement);
  const scene = new THREE.Scene();
  scene.add(new THREE.AmbientLight(0xffffff, ambient));
  const sun = new THREE.DirectionalLight(0xffffff, 1.6);
  sun.position.set(1, 2, 3);
  scene.add(sun);
  return { renderer, scene };
}
