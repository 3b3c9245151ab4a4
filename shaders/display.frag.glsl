#version 330 core
// Draws the latest dream frame, keeps the motion going between dream frames, grades colour.
in vec2 v_uv;
out vec4 out_color;

uniform sampler2D u_current;   // latest dream frame (rows uploaded top first)
uniform sampler2D u_previous;  // the dream frame before it (for crossfading)
uniform mat3 u_motion;         // frame uv -> sampled uv: the chain's per-frame motion to the power
                               // of the fraction of a dream interval elapsed (identity when new)
uniform float u_crossfade;     // 0 = previous frame, 1 = current frame
uniform float u_brightness;    // added after contrast (0 = unchanged)
uniform float u_contrast;      // about mid-grey (1 = unchanged)
uniform float u_saturation;    // 0 = grey, 1 = unchanged
uniform float u_gamma;         // output = input^(1/gamma) (1 = unchanged)

vec3 sample_inside(sampler2D tex, vec2 uv) {
    // Outside the frame is black, like the feedback transforms' constant border.
    vec2 inside = step(vec2(0.0), uv) * step(uv, vec2(1.0));
    return texture(tex, uv).rgb * inside.x * inside.y;
}

void main() {
    vec2 uv = (u_motion * vec3(v_uv, 1.0)).xy;
    vec3 colour = sample_inside(u_current, uv);
    // Stages compiled in only when used (livedream.live.shaders.fragment_defines).
#ifdef LIVEDREAM_CROSSFADE
    colour = mix(texture(u_previous, v_uv).rgb, colour, u_crossfade);
#endif
#ifdef LIVEDREAM_GRADE
    colour = (colour - 0.5) * u_contrast + 0.5 + u_brightness;
    float luma = dot(colour, vec3(0.2126, 0.7152, 0.0722));
    colour = mix(vec3(luma), colour, u_saturation);
#endif
    colour = clamp(colour, 0.0, 1.0);
#ifdef LIVEDREAM_GAMMA
    colour = pow(colour, vec3(1.0 / u_gamma));
#endif
    out_color = vec4(colour, 1.0);
}
