// placeholder until dectl lands
