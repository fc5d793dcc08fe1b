/**
 * The 3D view of the grid with three.js: a box per block (the assistant's with an outline), the blueprint as faint
 * ghosts, the selected layer as a thin plate; OrbitControls to turn it. Without WebGL the page says so and keeps the
 * layer view, which is enough to play.
 */
import * as THREE from 'three';
import { OrbitControls } from 'three/addons/controls/OrbitControls.js';

export const COLORS = ['#000000', '#a0703c', '#8d9199', '#9fd8f0', '#b5483a'];

export type View3d = { update(grid: Uint8Array, who: Uint8Array, ghost: Uint8Array | undefined, layer: number): void };

function webglAvailable(): boolean {
  try {
    const c = document.createElement('canvas');
    return Boolean(c.getContext('webgl2') ?? c.getContext('webgl'));
  } catch {
    return false;
  }
}

export function createView3d(host: HTMLElement, [X, Y, Z]: readonly [number, number, number]): View3d | undefined {
  if (!webglAvailable()) {
    host.textContent = 'This browser has no WebGL here, so there is no 3D view; the layer view above is the whole game.';
    return undefined;
  }
  const width = host.clientWidth || 600;
  const height = host.clientHeight || 420;
  const renderer = new THREE.WebGLRenderer({ antialias: true, preserveDrawingBuffer: true });
  renderer.setSize(width, height);
  host.append(renderer.domElement);
  const scene = new THREE.Scene();
  scene.background = new THREE.Color('#161a20');
  const camera = new THREE.PerspectiveCamera(40, width / height, 0.1, 100);
  camera.position.set(X * 1.6, Y * 2.6, Z * 1.9);
  const controls = new OrbitControls(camera, renderer.domElement);
  controls.target.set(X / 2, Y / 3, Z / 2);
  controls.update();
  scene.add(new THREE.AmbientLight(0xffffff, 1.2));
  const sun = new THREE.DirectionalLight(0xffffff, 2);
  sun.position.set(5, 10, 7);
  scene.add(sun);
  const ground = new THREE.Mesh(new THREE.PlaneGeometry(X, Z), new THREE.MeshLambertMaterial({ color: '#2c3a2c' }));
  ground.rotation.x = -Math.PI / 2;
  ground.position.set(X / 2, 0, Z / 2);
  scene.add(ground);
  const grid = new THREE.GridHelper(X, X, '#445', '#334');
  grid.position.set(X / 2, 0.001, Z / 2);
  scene.add(grid);
  const box = new THREE.BoxGeometry(0.96, 0.96, 0.96);
  const edges = new THREE.EdgesGeometry(box);
  const solid = COLORS.map((c) => new THREE.MeshLambertMaterial({ color: c }));
  const ghostMaterial = COLORS.map((c) => new THREE.MeshBasicMaterial({ color: c, transparent: true, opacity: 0.13, depthWrite: false }));
  const outline = new THREE.LineBasicMaterial({ color: '#7cc4ff' });
  const plate = new THREE.Mesh(new THREE.PlaneGeometry(X, Z), new THREE.MeshBasicMaterial({ color: '#7cc4ff', transparent: true, opacity: 0.08, side: THREE.DoubleSide, depthWrite: false }));
  plate.rotation.x = -Math.PI / 2;
  scene.add(plate);
  let blocks = new THREE.Group();
  scene.add(blocks);
  const render = () => renderer.render(scene, camera);
  controls.addEventListener('change', render);
  return {
    update(cells, who, ghost, layer) {
      scene.remove(blocks);
      blocks = new THREE.Group();
      for (let x = 0; x < X; x++) for (let y = 0; y < Y; y++) for (let z = 0; z < Z; z++) {
        const c = (x * Y + y) * Z + z;
        const at = (m: THREE.Object3D) => { m.position.set(x + 0.5, y + 0.5, z + 0.5); blocks.add(m); };
        if (cells[c] !== 0) {
          at(new THREE.Mesh(box, solid[cells[c]]));
          if (who[c] === 2) at(new THREE.LineSegments(edges, outline));
        } else if (ghost && ghost[c] !== 0) at(new THREE.Mesh(box, ghostMaterial[ghost[c]]));
      }
      scene.add(blocks);
      plate.position.set(X / 2, layer + 0.02, Z / 2);
      render();
    },
  };
}
