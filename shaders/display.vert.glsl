#version 330 core
// Full-window quad for the dream frame, letterboxed to keep the frame's aspect ratio.
in vec2 position;        // quad corner in [-1, 1]^2
uniform vec2 u_fit;      // quad half-size in clip space (1, 1 = fills the window)
out vec2 v_uv;           // frame coordinate: (0, 0) = top-left of the frame, (1, 1) = bottom-right

void main() {
    v_uv = vec2(position.x * 0.5 + 0.5, 0.5 - position.y * 0.5);
    gl_Position = vec4(position * u_fit, 0.0, 1.0);
}
