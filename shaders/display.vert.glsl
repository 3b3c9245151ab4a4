#version 330 core
// Full-target quad for the output picture (the window shows it scaled to fit, by a blit).
in vec2 position;        // quad corner in [-1, 1]^2
out vec2 v_uv;           // frame coordinate: (0, 0) = top-left of the frame, (1, 1) = bottom-right

void main() {
    v_uv = vec2(position.x * 0.5 + 0.5, 0.5 - position.y * 0.5);
    gl_Position = vec4(position, 0.0, 1.0);
}
