"""Rigid-body collapse of the fractured facade with pymunk (Chipmunk2D).

Time is in shot units (progress p; the shot is p 0..1), lengths in region heights
(isotropic, x in [0, aspect] across the facade, y up, ground at y = 0). pymunk works
at SCALE units per region height, the scale Chipmunk's tolerances are tuned for.

Staging (a bottom-up progressive collapse, timings scale with 1/sqrt(gravity)):
  * the lower third of the floors gives way floor by floor from the bottom, from
    p = 0.04: each failing floor's cells become dynamic bodies with a small outward
    kick (toward `direction`, a little random);
  * the intact upper mass is then one kinematic body (all its cells are shapes on
    it) that drops with 0.85 g, leaning about its bottom corner on the `direction`
    side and drifting that way;
  * a held cell is released (turned into a dynamic body carrying the block's
    velocity at that point) when its lowest vertex reaches the crush front: the top
    of the rubble below it (settled released fragments, per x bin) plus a margin,
    or as soon as it touches debris (any contact); cells on the
    block's sides also peel off at random times while it falls.
Released fragments scatter into LAYERS depth layers that do not collide with each
other (rubble spreads toward and away from the camera; the 2D pile stays low and
loose stacks tumble); side cells that peel off do not collide with the block.
Dynamic bodies: mass from area (uniform density), friction 0.6, elasticity 0.1; a
static ground segment spans the affected area and beyond. Contacts that begin are
reported as dust events (position, relative normal speed, mass, kind).
"""

import math

import numpy as np
import pymunk


G0 = 8.0               # gravity, region heights per progress^2, at gravity = 1
SCALE = 100.0          # pymunk units per region height
BLOCK_ACCEL = 0.85     # the upper block drops at this fraction of g
T_FIRST = 0.04         # first floor failure (progress)
FLOOR_STEP = 0.025     # between floor failures (progress, at gravity 1)
LOWER_FRACTION = 1 / 3  # floors that fail one by one before the block drops
LEAN = 0.3             # block rotation (rad) per region height dropped, |direction| = 1
DRIFT = 0.12           # block drift per region height dropped, |direction| = 1
PEEL_PROB, PEEL_MEAN = 0.3, 0.3  # outline cells that peel off, mean delay after drop
CRUSH_MARGIN = 0.04    # release this far above the rubble top
SETTLED_SPEED = 1.0    # released fragments slower than this count as rubble,
SETTLED_AGE = 0.08     # once released this long, and lower than
RUBBLE_MAX = 0.6
FRICTION, ELASTICITY = 0.6, 0.1

CRUSH_MIN = 0.1       # the crush front never sits lower than this
FRESH_AGE = 0.04      # contacts with fragments released more recently are ignored,
PUSH_DV = 0.3         # unless the block pushes them harder than this (velocity per step)
LAYERS = 4             # released fragments scatter into this many depth layers

CT_GROUND, CT_FRAG, CT_BLOCK = 1, 2, 3
BIT_GROUND, BIT_BLOCK = 1 << 30, 1 << 29
EV_GROUND, EV_FRAG = 0, 1


class RigidSim:
    def __init__(self, frac, controls, seed, substep_dt, extent):
        """frac: fracture.Fracture; controls: dict; extent: (x0, x1) the ground spans."""
        self.frac = frac
        self.a = frac.aspect
        self.n = frac.count
        self.dir = float(controls["direction"])
        self.gmul = float(controls["gravity"])
        self.g = G0 * self.gmul
        self.dt = substep_dt
        self.t = 0.0
        rng = np.random.default_rng([seed, 0xB0D1])
        tscale = 1.0 / np.sqrt(self.gmul)

        cents = frac.centroids
        self.rest_c = cents.copy()
        self.local = [p - c for p, c in zip(frac.polys, cents)]
        nv = max(len(p) for p in frac.polys)
        self.rest_v = np.stack([np.concatenate([p, np.repeat(p[-1:], nv - len(p), 0)])
                                for p in frac.polys])               # [n, nv, 2]
        self.radius = np.array([np.linalg.norm(l, axis=1).max() for l in self.local])
        self.area = frac.areas

        # Staging. Floors by centroid height; the lower floors fail one by one.
        nf = frac.n_floors
        floor = np.clip((cents[:, 1] * nf).astype(int), 0, nf - 1)
        n_lower = max(1, int(round(nf * LOWER_FRACTION)))
        jitter = rng.random(self.n) * 0.4 * FLOOR_STEP
        self.t_fail = np.full(self.n, np.inf)
        lower = floor < n_lower
        self.t_fail[lower] = T_FIRST + (floor[lower] * FLOOR_STEP + jitter[lower]) * tscale
        self.t_block = T_FIRST + (n_lower * FLOOR_STEP + 0.3 * FLOOR_STEP) * tscale
        self.in_block = ~lower
        if not self.in_block.any():          # tiny building: the top cell is the block
            self.in_block[np.argmax(cents[:, 1])] = True
            self.t_fail[self.in_block] = np.inf
        onedge = np.array([(np.abs(p[:, 0]) < 1e-6).any() or (np.abs(p[:, 0] - self.a) < 1e-6).any()
                           for p in frac.polys])
        peel = onedge & self.in_block & (rng.random(self.n) < PEEL_PROB)
        self.t_peel = np.where(peel, self.t_block + rng.exponential(PEEL_MEAN, self.n) * tscale, np.inf)
        self.kick = np.column_stack([
            0.6 * (cents[:, 0] - 0.5 * self.a) / max(self.a, 0.3) + 0.4 * self.dir
            + rng.normal(0, 0.2, self.n),
            rng.normal(0, 0.2, self.n) + 0.1])
        self.kick_w = rng.normal(0, 2.0, self.n)
        self.layer = rng.integers(0, LAYERS, self.n)
        bmin = self.rest_v[self.in_block][..., 1].min()
        self.pivot0 = np.array([self.a if self.dir > 0 else 0.0, bmin])

        # pymunk space
        sp = pymunk.Space()
        sp.gravity = (0.0, -self.g * SCALE)
        sp.iterations = 15
        sp.collision_slop = 0.002 * SCALE
        sp.sleep_time_threshold = 0.2
        self.space = sp
        r = 0.05
        ground = pymunk.Segment(sp.static_body, ((extent[0] - 1) * SCALE, -r * SCALE),
                                ((extent[1] + 1) * SCALE, -r * SCALE), r * SCALE)
        ground.friction, ground.elasticity = FRICTION, ELASTICITY
        ground.collision_type = CT_GROUND
        ground.filter = pymunk.ShapeFilter(categories=BIT_GROUND)
        sp.add(ground)
        self.block = pymunk.Body(body_type=pymunk.Body.KINEMATIC)
        self.block.position = tuple(self.pivot0 * SCALE)
        sp.add(self.block)
        self.shapes = [None] * self.n
        self.bodies = [None] * self.n
        for i in range(self.n):
            v = (frac.polys[i] - self.pivot0) * SCALE
            s = pymunk.Poly(self.block, [tuple(p) for p in self._shrunk(i, v)])
            s.friction, s.elasticity = FRICTION, ELASTICITY
            s.collision_type = CT_BLOCK
            s.filter = pymunk.ShapeFilter(categories=BIT_BLOCK)
            s.cell = i
            self.shapes[i] = s
            sp.add(s)
        self.released = np.zeros(self.n, bool)
        self.t_released = np.full(self.n, np.inf)
        self.events = []
        self.release_events = []
        self.pending = []
        sp.on_collision(begin=self._begin)
        self.pile_x = np.linspace(extent[0], extent[1], 65)
        self.pile_top = np.zeros(64)

    def _shrunk(self, i, v):
        c = v.mean(axis=0)
        return c + (v - c) * 0.99

    # block motion --------------------------------------------------------------
    def block_motion(self, t):
        """(drop d, drop speed, angle, angular speed, drift, drift speed) at time t."""
        tau = max(0.0, t - self.t_block)
        A = BLOCK_ACCEL * self.g
        d, vd = 0.5 * A * tau * tau, A * tau
        th, w = -self.dir * LEAN * d, -self.dir * LEAN * vd
        return d, vd, th, w, self.dir * DRIFT * d, self.dir * DRIFT * vd

    def block_transform(self, t, pts):
        if t <= self.t_block:
            return np.array(pts, dtype=float)      # exactly at rest
        d, _, th, _, dx, _ = self.block_motion(t)
        c, s = np.cos(th), np.sin(th)
        q = pts - self.pivot0
        return np.stack([c * q[..., 0] - s * q[..., 1] + self.pivot0[0] + dx,
                         s * q[..., 0] + c * q[..., 1] + self.pivot0[1] - d], -1)

    def _set_block(self, t):
        d, vd, th, w, dx, vx = self.block_motion(t)
        self.block.position = ((self.pivot0[0] + dx) * SCALE, (self.pivot0[1] - d) * SCALE)
        self.block.angle = th
        self.block.velocity = (vx * SCALE, -vd * SCALE)
        self.block.angular_velocity = w

    def _point_velocity(self, t, p):
        d, vd, th, w, dx, vx = self.block_motion(t)
        piv = np.array([self.pivot0[0] + dx, self.pivot0[1] - d])
        r = p - piv
        return np.array([vx - w * r[1], -vd + w * r[0]]), w

    # contacts -------------------------------------------------------------------
    def _begin(self, arb, space, data):
        sa, sb = arb.shapes
        ta, tb = sa.collision_type, sb.collision_type
        if CT_FRAG not in (ta, tb):
            return
        cps = arb.contact_point_set
        if not cps.points:
            return
        p = cps.points[0].point_a
        n = cps.normal
        va = sa.body.velocity_at_world_point(p)
        vb = sb.body.velocity_at_world_point(p)
        vn = abs((va.x - vb.x) * n.x + (va.y - vb.y) * n.y) / SCALE
        kind = EV_GROUND if CT_GROUND in (ta, tb) else EV_FRAG
        m = min(b.mass for b in (sa.body, sb.body) if b.body_type == pymunk.Body.DYNAMIC)
        self.events.append((p.x / SCALE, p.y / SCALE, vn, m / SCALE ** 2, kind))

    def _touching(self, arb):
        sa, sb = arb.shapes
        blk, frag = (sa, sb) if sa.collision_type == CT_BLOCK else (sb, sa)
        # a sibling that only just broke free may graze the block; anything else
        # it touches, or anything it pushes hard, breaks the touched cell free
        if self.t - self.t_released[frag.cell] > FRESH_AGE:
            self.pending.append(blk.cell)
        else:
            j = arb.total_impulse
            if math.hypot(j.x, j.y) > PUSH_DV * SCALE * frag.body.mass:
                self.pending.append(blk.cell)

    # release --------------------------------------------------------------------
    def _release(self, i, t):
        s = self.shapes[i]
        self.space.remove(s)
        c = self.block_transform(t, self.rest_c[i])
        th = self.block_motion(t)[2]
        v, w = self._point_velocity(t, c)
        if self.t_fail[i] <= t:
            v = v + self.kick[i]
            w = w + self.kick_w[i]
        elif self.t_peel[i] <= t:           # peels off a side: outward, tumbling
            side = 1.0 if self.rest_c[i, 0] > 0.5 * self.a else -1.0
            v = v + np.array([side * (0.4 + 1.0 * abs(self.kick[i, 1])), 0.0])
            w = w + self.kick_w[i]
        body = pymunk.Body()
        body.position = tuple(c * SCALE)
        body.angle = th
        shape = pymunk.Poly(body, [tuple(p) for p in self._shrunk(i, self.local[i] * SCALE)])
        shape.density = 1.0
        shape.friction, shape.elasticity = FRICTION, ELASTICITY
        shape.collision_type = CT_FRAG
        shape.cell = i
        bit = 1 << int(self.layer[i])
        # a cell peeling off a side falls clear of the block (in front of it)
        peeled = self.t_peel[i] <= t and not self.t_fail[i] <= t
        shape.filter = pymunk.ShapeFilter(categories=bit,
                                          mask=bit | BIT_GROUND | (0 if peeled else BIT_BLOCK))
        self.space.add(body, shape)
        body.velocity = tuple(v * SCALE)
        body.angular_velocity = w
        self.bodies[i] = body
        self.shapes[i] = shape
        self.released[i] = True
        self.t_released[i] = t
        self.release_events.append((c[0], c[1], self.area[i], v[0], v[1]))

    def _check_releases(self, t):
        held = ~self.released
        if not held.any():
            return
        due = held & ((self.t_fail <= t) | (self.t_peel <= t))
        if t >= self.t_block:
            # the block touches debris: the cells it touches break free
            self.block.each_arbiter(self._touching)
        if self.pending:
            due[self.pending] = True
            due &= held
            self.pending = []
        if t >= self.t_block:
            idx = np.nonzero(held)[0]
            v = self.block_transform(t, self.rest_v[idx])      # [h, nv, 2]
            low = v[..., 1].min(axis=1)
            cx = v[..., 0].mean(axis=1)
            _, vd, *_ = self.block_motion(t)
            front = np.maximum(CRUSH_MIN, np.interp(cx, 0.5 * (self.pile_x[1:] + self.pile_x[:-1]), self.pile_top))
            crush = low < front + CRUSH_MARGIN + vd * self.dt * 4
            due[idx[crush]] = True
            if self.block_motion(t)[0] > 2.0:
                due[idx] = True
        for i in np.nonzero(due)[0]:
            self._release(i, t)

    def _update_pile(self, pos, vel):
        top = np.zeros(len(self.pile_top))
        rel = (self.released & (np.hypot(vel[:, 0], vel[:, 1]) < SETTLED_SPEED)
               & (self.t - self.t_released > SETTLED_AGE) & (pos[:, 1] < RUBBLE_MAX))
        if rel.any():
            x, y, r = pos[rel, 0], pos[rel, 1], self.radius[rel]
            b = np.clip(np.searchsorted(self.pile_x, x) - 1, 0, len(top) - 1)
            np.maximum.at(top, b, y + 0.6 * r)
            top = np.maximum(top, np.maximum(np.roll(top, 1), np.roll(top, -1)) * 0.9)
        self.pile_top = top

    # stepping -------------------------------------------------------------------
    def advance(self, t_end):
        """Step to t_end; returns (contact events, release events) since the last
        call; the state at t_end is then in last_state."""
        while self.t < t_end - 1e-9:
            self._check_releases(self.t)
            self._set_block(self.t)
            self.space.step(self.dt)
            self.t += self.dt
        ev, rel = self.events, self.release_events
        self.events, self.release_events = [], []
        self.last_state = self.state()
        self._update_pile(self.last_state[0], self.last_state[2])
        return ev, rel

    def state(self):
        """Per-fragment centroid position [n, 2], angle [n], velocity [n, 2] and
        angular velocity [n] now."""
        pos = np.empty((self.n, 2))
        vel = np.empty((self.n, 2))
        ang = np.empty(self.n)
        om = np.empty(self.n)
        held = ~self.released
        if held.any():
            pos[held] = self.block_transform(self.t, self.rest_c[held])
            d, vd, th, w, dx, vx = self.block_motion(self.t)
            piv = np.array([self.pivot0[0] + dx, self.pivot0[1] - d])
            r = pos[held] - piv
            vel[held] = np.column_stack([vx - w * r[:, 1], -vd + w * r[:, 0]])
            ang[held] = th
            om[held] = w
        for i in np.nonzero(self.released)[0]:
            b = self.bodies[i]
            p, v = b.position, b.velocity
            pos[i] = (p.x / SCALE, p.y / SCALE)
            vel[i] = (v.x / SCALE, v.y / SCALE)
            ang[i] = b.angle
            om[i] = b.angular_velocity
        return pos, ang, vel, om
